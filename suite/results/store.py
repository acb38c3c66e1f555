"""Parquet result store: one file per trial and table, written atomically and checked when read.

The layout is `suite.results.layout`'s; the bytes go through `suite.results.files`
(fsync, rename, local or URI roots); `suite.results.check` decides whether a
file counts. A trial is done once its rows file passes that check: each file
is written to a temporary name and renamed into place, the rows file last, so
a crash never leaves a partial file that counts and never a rows file without
its side tables. A file that does not pass (truncated, garbage, a dangling
link, another trial's copy) is skipped by every reader and named; the driver
moves it aside (`quarantine_damaged`) and trains its trial again.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from suite.results.check import Damage, StoreReadError, check_record, check_table, quarantine, read_checked
from suite.results.files import delete, entry_kind, folder_blocker, list_names, read_bytes, uri_fs, where, write_bytes
from suite.results.layout import failed_dir, failed_path, kind_of, table_dir, table_path
from suite.results.schema import HISTORY_SCHEMA, LAYER_SCHEMA, ROW_SCHEMA, TABLES
from suite.results.values import nonfinite_problem


class UnstorableResult(ValueError):
    """A trial's rows hold a value no trial can produce (a NaN accuracy ...); the message names it."""


@dataclass
class TrialResult:
    """Everything one trial produced, as plain records matching the schemas."""

    rows: list[dict]
    layers: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    @property
    def config_hash(self) -> str:
        return self.rows[0]["config_hash"]


def _parquet_bytes(records: list[dict], schema: pa.Schema) -> bytes:
    columns = {name: [r.get(name) for r in records] for name in schema.names}
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pydict(columns, schema=schema), sink)
    return sink.getvalue()


def sweep_dir(root: str | Path, sweep: str) -> Path:
    return Path(root) / sweep


def write_trial(root: str | Path, sweep: str, result: TrialResult) -> Path:
    """Write a trial's tables; the rows file last so it marks completion. UnstorableResult, writing
    nothing, when a row holds a non-finite value where none is legitimate (`suite.results.values`)."""
    problem = nonfinite_problem(result.rows)
    if problem is not None:
        raise UnstorableResult(f"trial {result.config_hash}: {problem}; not stored")
    for table in ("layers", "history", "rows"):
        written = write_bytes(root, table_path(sweep, table, result.config_hash),
                              _parquet_bytes(getattr(result, table), TABLES[table]))
    delete(root, failed_path(sweep, result.config_hash))
    return written if uri_fs(root) is not None else Path(written)  # type: ignore[return-value]


def write_failure(root: str | Path, sweep: str, config_hash: str, config: dict, error: str) -> Path:
    """Record a trial that raised. It is retried by the next run of the sweep."""
    text = json.dumps({"config_hash": config_hash, "config": config, "error": error}, indent=1, default=list)
    written = write_bytes(root, failed_path(sweep, config_hash), text.encode())
    return written if uri_fs(root) is not None else Path(written)  # type: ignore[return-value]


# --------------------------------------------------------------------------- checked reads


def scan_table(root: str | Path, sweep: str, table: str = "rows") -> tuple[dict[str, pa.Table], list[Damage]]:
    """({config_hash: table} of the files that pass their check, [the damaged ones]); changes nothing."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; allowed: {sorted(TABLES)}")
    good: dict[str, pa.Table] = {}
    folder = table_dir(sweep, table)
    damaged = folder_damage(root, folder, f"the {table} folder")
    for name in list_names(root, folder, ".parquet"):
        relpath = f"{folder}/{name}"
        read, problem = _read_table(root, relpath, table, name[: -len(".parquet")])
        if problem is None:
            good[name[: -len(".parquet")]] = read
        else:
            damaged.append(Damage(relpath, problem))
    return good, damaged


def folder_damage(root: str | Path, folder: str, what: str) -> list[Damage]:
    """[a Damage] when something other than a folder stands where `folder` should be, else []."""
    blocker = folder_blocker(root, folder)
    return [] if blocker is None else [Damage(folder, f"{blocker} where {what} should be")]


def trial_blockers(root: str | Path, sweep: str, config_hash: str) -> list[Damage]:
    """What stands in the way of writing one trial: a non-file at one of its paths or a non-folder at one
    of its folders (found before training, so that a trained result is never lost at the write)."""
    damaged = []
    for table in TABLES:
        damaged += folder_damage(root, table_dir(sweep, table), f"the {table} folder")
        relpath = table_path(sweep, table, config_hash)
        kind = entry_kind(root, relpath)
        if kind not in ("file", "missing"):
            damaged.append(Damage(relpath, f"{kind} where a file should be"))
    return damaged


def side_non_files(root: str | Path, sweep: str) -> list[Damage]:
    """Non-files in the side tables' and failure records' folders, and non-folders where those folders should
    be: found without reading a file (what a plan names besides its damaged rows files)."""
    damaged = []
    for folder, suffix in ((table_dir(sweep, "layers"), ".parquet"), (table_dir(sweep, "history"), ".parquet"),
                           (failed_dir(sweep), ".json")):
        damaged += folder_damage(root, folder, f"the {folder.rsplit('/', 1)[-1]} folder")
        for name in list_names(root, folder, suffix):
            kind = entry_kind(root, f"{folder}/{name}")
            if kind != "file":
                damaged.append(Damage(f"{folder}/{name}", f"{kind} where a file should be"))
    return damaged


def _read_table(root: str | Path, relpath: str, table: str, config_hash: str) -> tuple[pa.Table | None, str | None]:
    """(the file as a table, None), or (None, why it does not count: also when there is no file)."""
    data, problem = read_checked(str(root), relpath)
    return (None, problem) if problem is not None else check_table(data, table, config_hash)


def stored_rows(root: str | Path, sweep: str, config_hash: str) -> list[dict] | None:
    """The rows of one trial if its rows file is stored and passes its check, else None."""
    read, _problem = _read_table(root, table_path(sweep, "rows", config_hash), "rows", config_hash)
    return None if read is None else read.to_pylist()


def scan_rows(root: str | Path, sweep: str) -> tuple[set[str], list[Damage]]:
    """(config hashes of the trials done, damaged rows files); changes nothing."""
    good, damaged = scan_table(root, sweep, "rows")
    return set(good), damaged


def done_hashes(root: str | Path, sweep: str) -> set[str]:
    """Config hashes of the trials whose rows file passes its check."""
    return scan_rows(root, sweep)[0]


def quarantine_damaged(root: str | Path, sweep: str, stamp: str | None = None) -> list[Damage]:
    """Move every damaged file of the sweep's tables aside (never deleted); returns them, moved."""
    damaged = [d for table in TABLES for d in scan_table(root, sweep, table)[1]]
    return quarantine(str(root), damaged, stamp)


def load_checked(root: str | Path, sweep: str, table: str = "rows") -> tuple[pd.DataFrame, list[Damage]]:
    """(all valid files of one table as one DataFrame, the damaged files skipped)."""
    good, damaged = scan_table(root, sweep, table)
    if not good:
        return TABLES[table].empty_table().to_pandas(), damaged
    frames = [good[h].to_pandas() for h in sorted(good)]
    return pd.concat(frames, ignore_index=True), damaged


def load_table(root: str | Path, sweep: str, table: str = "rows") -> pd.DataFrame:
    """All valid files of one table of a sweep as one DataFrame (empty if none; damaged files skipped)."""
    return load_checked(root, sweep, table)[0]


def load_failures_checked(root: str | Path, sweep: str) -> tuple[list[dict], list[Damage]]:
    """(the failure records, the unreadable ones)."""
    out, damaged = [], folder_damage(root, failed_dir(sweep), "the failed folder")
    for name in list_names(root, failed_dir(sweep), ".json"):
        relpath = f"{failed_dir(sweep)}/{name}"
        data, problem = read_checked(str(root), relpath)
        record = None
        if problem is None:
            record, problem = check_record(data, "failed") if data is not None else (None, "no readable file there")
        if problem is None:
            out.append(record)
        else:
            damaged.append(Damage(relpath, problem))
    return out, damaged


def load_failures(root: str | Path, sweep: str) -> list[dict]:
    return load_failures_checked(root, sweep)[0]


# One result row per (trial, seed, evaluation point); a duplicate is a copy of one already counted.
ROW_KEY = ["config_hash", "seed", "point_id"]


@dataclass
class SweepData:
    """Everything a report reads from one sweep, checked: what counts and what was skipped."""

    rows: pd.DataFrame
    layers: pd.DataFrame
    history: pd.DataFrame
    failures: list[dict]
    damaged: list[Damage]
    duplicates: int = 0  # rows dropped as copies of a (config_hash, seed, point_id) already counted
    lacking: dict[str, list[str]] = field(default_factory=dict)  # side table -> config hashes without it


def load_sweep(root: str | Path, sweep: str) -> SweepData:
    """A sweep's tables for reading: damaged files skipped and named, rows de-duplicated, gaps listed."""
    rows, damaged = load_checked(root, sweep, "rows")
    before = len(rows)
    if not rows.empty:
        order = rows.sort_values("created_at", kind="stable") if "created_at" in rows else rows
        rows = order.drop_duplicates(ROW_KEY, keep="last").sort_index().reset_index(drop=True)
    sides = {}
    lacking = {}
    for table in ("layers", "history"):
        sides[table], bad = load_checked(root, sweep, table)
        damaged += bad
        have = set(sides[table]["config_hash"]) if not sides[table].empty else set()
        missing = sorted(set(rows["config_hash"]) - have) if not rows.empty else []
        if missing:
            lacking[table] = missing
    failures, bad = load_failures_checked(root, sweep)
    return SweepData(rows, sides["layers"], sides["history"], failures, damaged + bad, before - len(rows), lacking)


class DamagedRecord(ValueError):
    """A JSON record of the store cannot be read; the message names the file."""

    def __init__(self, damage: Damage, root: str):
        super().__init__(damage.describe(root))
        self.damage = damage


def read_record(root: str | Path, relpath: str) -> dict | None:
    """The JSON object at `relpath`, None if there is none; DamagedRecord (naming the file) if unreadable."""
    data, problem = read_checked(str(root), relpath)
    if problem is None and data is not None:
        record, problem = check_record(data, kind_of(relpath))
        if problem is None:
            return record
    if problem is None:
        return None
    raise DamagedRecord(Damage(relpath, problem), str(root))


__all__ = [
    "Damage", "DamagedRecord", "StoreReadError", "UnstorableResult", "folder_damage", "side_non_files",
    "trial_blockers", "HISTORY_SCHEMA", "LAYER_SCHEMA", "ROW_KEY", "ROW_SCHEMA", "SweepData", "TABLES",
    "TrialResult", "done_hashes", "load_checked", "load_failures", "load_failures_checked", "load_sweep",
    "load_table", "quarantine_damaged",
    "read_bytes", "read_record", "scan_rows", "scan_table", "stored_rows", "where", "write_bytes", "write_failure",
    "write_trial",
]
