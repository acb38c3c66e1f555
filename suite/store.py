"""Parquet result store: one file per trial and table, written atomically.

Layout under a results root::

    <root>/<sweep>/rows/<config_hash>.parquet     one row per evaluated sparsity point
    <root>/<sweep>/layers/<config_hash>.parquet   per-layer counts of each point
    <root>/<sweep>/history/<config_hash>.parquet  per-epoch training history
    <root>/<sweep>/failed/<config_hash>.json      error of a trial that raised

A trial counts as done once its `rows` file exists. Each file is written to a
temporary name in the same directory and renamed into place (atomic on POSIX),
and the rows file is renamed last, so a crash never leaves a partial file that
a later read takes for a result, and never a rows file without its side tables.

The root may also be a URI with a scheme (s3://bucket/results, gs://...,
file:///shared/results) that every node of a cluster reaches: then the same
layout is written through pyarrow filesystems (`_uri_fs`); object stores
publish an object only once its upload completes, other filesystems get the
same temporary-name-and-rename treatment.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

# The result-row contract (DESIGN.md). Accuracies are fractions in [0, 1];
# compression_ratio = total_params / nonzero_params over the counted parameters.
ROW_SCHEMA = pa.schema(
    [
        ("sweep", pa.string()),
        ("method", pa.string()),
        ("model", pa.string()),
        ("dataset", pa.string()),
        ("depth", pa.int64()),
        ("lam", pa.float64()),
        ("lr", pa.float64()),
        ("target_compression", pa.float64()),
        ("seed", pa.int64()),
        ("epochs", pa.int64()),
        # Which evaluation of the trial this row is: "final" (the trained
        # network as is: DWF collapsed, pruned-at-init masked, dense, L1's
        # inherent sparsity) or "posthoc" (magnitude-pruned after training).
        ("point", pa.string()),
        ("point_id", pa.int64()),
        ("status", pa.string()),  # "ok" or "diverged" (NaN loss: chance accuracy)
        ("test_acc", pa.float64()),
        ("train_acc", pa.float64()),
        ("test_loss", pa.float64()),
        ("train_loss", pa.float64()),
        ("total_params", pa.int64()),
        ("nonzero_params", pa.int64()),
        ("compression_ratio", pa.float64()),
        ("sparsity", pa.float64()),
        ("l2_norm", pa.float64()),
        ("misalignment", pa.float64()),
        ("config_hash", pa.string()),
        ("config_json", pa.string()),
        ("device", pa.string()),
        ("wall_time_s", pa.float64()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)

LAYER_SCHEMA = pa.schema(
    [
        ("config_hash", pa.string()),
        ("point_id", pa.int64()),
        ("layer", pa.string()),
        ("layer_index", pa.int64()),
        ("total_params", pa.int64()),
        ("nonzero_params", pa.int64()),
    ]
)

HISTORY_SCHEMA = pa.schema(
    [
        ("config_hash", pa.string()),
        ("epoch", pa.int64()),
        ("lr", pa.float64()),
        ("train_loss", pa.float64()),
        ("train_acc", pa.float64()),
        ("test_loss", pa.float64()),
        ("test_acc", pa.float64()),
        ("compression_ratio", pa.float64()),
        ("l2_norm", pa.float64()),
        ("misalignment", pa.float64()),
        ("reg_strength", pa.float64()),
        ("epoch_time_s", pa.float64()),
    ]
)

TABLES = {"rows": ROW_SCHEMA, "layers": LAYER_SCHEMA, "history": HISTORY_SCHEMA}


@dataclass
class TrialResult:
    """Everything one trial produced, as plain records matching the schemas."""

    rows: list[dict]
    layers: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    @property
    def config_hash(self) -> str:
        return self.rows[0]["config_hash"]


def _table(records: list[dict], schema: pa.Schema) -> pa.Table:
    columns = {name: [r.get(name) for r in records] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


def _atomic_write_bytes(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- URI roots

# Filesystems whose writes publish a whole object at once (no rename needed).
_OBJECT_STORES = ("s3", "gcs", "abfs")


def _uri_fs(root: str | Path) -> tuple[pafs.FileSystem, str] | None:
    """(filesystem, base path) when `root` is a URI with a scheme, else None (a local path)."""
    text = str(root)
    if "://" not in text:
        return None
    fs, path = pafs.FileSystem.from_uri(text)
    return fs, path.rstrip("/")


def _uri_write(fs: pafs.FileSystem, path: str, data: bytes) -> None:
    parent, name = path.rsplit("/", 1)
    fs.create_dir(parent, recursive=True)
    if fs.type_name in _OBJECT_STORES:
        with fs.open_output_stream(path) as out:
            out.write(data)
        return
    tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        with fs.open_output_stream(tmp) as out:
            out.write(data)
        fs.move(tmp, path)
    except BaseException:
        if fs.get_file_info(tmp).type != pafs.FileType.NotFound:
            fs.delete_file(tmp)
        raise


def _uri_list(fs: pafs.FileSystem, folder: str, suffix: str) -> list[str]:
    """Paths of the finished files in `folder` (temporary '.name...tmp' files never match)."""
    infos = fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
    return sorted(i.path for i in infos if i.type == pafs.FileType.File
                  and i.base_name.endswith(suffix) and not i.base_name.startswith("."))


def _uri_delete(fs: pafs.FileSystem, path: str) -> None:
    if fs.get_file_info(path).type != pafs.FileType.NotFound:
        fs.delete_file(path)


def _parquet_bytes(records: list[dict], schema: pa.Schema) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(_table(records, schema), sink)
    return sink.getvalue().to_pybytes()


def write_bytes(root: str | Path, relpath: str, data: bytes) -> str:
    """Write `data` atomically to `root/relpath` (a local root or a URI); returns where."""
    remote = _uri_fs(root)
    if remote is not None:
        fs, base = remote
        _uri_write(fs, f"{base}/{relpath}", data)
        return f"{str(root).rstrip('/')}/{relpath}"
    target = Path(root) / relpath
    _atomic_write_bytes(target, lambda tmp: Path(tmp).write_bytes(data))
    return str(target)


def read_bytes(root: str | Path, relpath: str) -> bytes | None:
    """The bytes at `root/relpath` (a local root or a URI), or None if there is no such file."""
    remote = _uri_fs(root)
    if remote is not None:
        fs, base = remote
        path = f"{base}/{relpath}"
        if fs.get_file_info(path).type != pafs.FileType.File:
            return None
        with fs.open_input_stream(path) as f:
            return f.read()
    path = Path(root) / relpath
    return path.read_bytes() if path.is_file() else None


# --------------------------------------------------------------------------- trials


def sweep_dir(root: str | Path, sweep: str) -> Path:
    return Path(root) / sweep


def write_trial(root: str | Path, sweep: str, result: TrialResult) -> Path:
    """Write a trial's tables; the rows file last so it marks completion."""
    remote = _uri_fs(root)
    if remote is not None:
        fs, base = remote
        name = f"{result.config_hash}.parquet"
        for table in ("layers", "history", "rows"):
            _uri_write(fs, f"{base}/{sweep}/{table}/{name}", _parquet_bytes(getattr(result, table), TABLES[table]))
        _uri_delete(fs, f"{base}/{sweep}/failed/{result.config_hash}.json")
        return f"{str(root).rstrip('/')}/{sweep}/rows/{name}"  # type: ignore[return-value]
    base = sweep_dir(root, sweep)
    name = f"{result.config_hash}.parquet"
    for table in ("layers", "history", "rows"):
        records = getattr(result, table)
        target = base / table / name
        _atomic_write_bytes(target, lambda tmp, r=records, t=table: pq.write_table(_table(r, TABLES[t]), tmp))
    (base / "failed" / f"{result.config_hash}.json").unlink(missing_ok=True)
    return base / "rows" / name


def write_failure(root: str | Path, sweep: str, config_hash: str, config: dict, error: str) -> Path:
    """Record a trial that raised. It is retried by the next run of the sweep."""
    text = json.dumps({"config_hash": config_hash, "config": config, "error": error}, indent=1, default=list)
    if _uri_fs(root) is not None:
        return write_bytes(root, f"{sweep}/failed/{config_hash}.json", text.encode())  # type: ignore[return-value]
    target = sweep_dir(root, sweep) / "failed" / f"{config_hash}.json"
    _atomic_write_bytes(target, lambda tmp: Path(tmp).write_text(text))
    return target


def done_hashes(root: str | Path, sweep: str) -> set[str]:
    """Config hashes of the trials whose results are on disk."""
    remote = _uri_fs(root)
    if remote is not None:
        fs, base = remote
        return {Path(p).stem for p in _uri_list(fs, f"{base}/{sweep}/rows", ".parquet")}
    rows = sweep_dir(root, sweep) / "rows"
    return {p.stem for p in rows.glob("*.parquet")} if rows.is_dir() else set()


def load_failures(root: str | Path, sweep: str) -> list[dict]:
    remote = _uri_fs(root)
    if remote is not None:
        fs, base = remote
        out = []
        for path in _uri_list(fs, f"{base}/{sweep}/failed", ".json"):
            with fs.open_input_stream(path) as f:
                out.append(json.loads(f.read()))
        return out
    failed = sweep_dir(root, sweep) / "failed"
    return [json.loads(p.read_text()) for p in sorted(failed.glob("*.json"))] if failed.is_dir() else []


def load_table(root: str | Path, sweep: str, table: str = "rows") -> pd.DataFrame:
    """All files of one table of a sweep as one DataFrame (empty if none)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; allowed: {sorted(TABLES)}")
    remote = _uri_fs(root)
    if remote is not None:
        fs, base = remote
        paths = _uri_list(fs, f"{base}/{sweep}/{table}", ".parquet")
        if not paths:
            return TABLES[table].empty_table().to_pandas()
        return pd.concat([pq.read_table(p, filesystem=fs).to_pandas() for p in paths], ignore_index=True)
    files = sorted((sweep_dir(root, sweep) / table).glob("*.parquet"))
    if not files:
        return TABLES[table].empty_table().to_pandas()
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
