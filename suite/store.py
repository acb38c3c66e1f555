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
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
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


def sweep_dir(root: str | Path, sweep: str) -> Path:
    return Path(root) / sweep


def write_trial(root: str | Path, sweep: str, result: TrialResult) -> Path:
    """Write a trial's tables; the rows file last so it marks completion."""
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
    target = sweep_dir(root, sweep) / "failed" / f"{config_hash}.json"
    text = json.dumps({"config_hash": config_hash, "config": config, "error": error}, indent=1, default=list)
    _atomic_write_bytes(target, lambda tmp: Path(tmp).write_text(text))
    return target


def done_hashes(root: str | Path, sweep: str) -> set[str]:
    """Config hashes of the trials whose results are on disk."""
    rows = sweep_dir(root, sweep) / "rows"
    return {p.stem for p in rows.glob("*.parquet")} if rows.is_dir() else set()


def load_failures(root: str | Path, sweep: str) -> list[dict]:
    failed = sweep_dir(root, sweep) / "failed"
    return [json.loads(p.read_text()) for p in sorted(failed.glob("*.json"))] if failed.is_dir() else []


def load_table(root: str | Path, sweep: str, table: str = "rows") -> pd.DataFrame:
    """All files of one table of a sweep as one DataFrame (empty if none)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; allowed: {sorted(TABLES)}")
    files = sorted((sweep_dir(root, sweep) / table).glob("*.parquet"))
    if not files:
        return TABLES[table].empty_table().to_pandas()
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
