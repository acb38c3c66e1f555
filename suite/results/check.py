"""Checking what the store counts, and moving damaged files aside.

A table file counts only when it reads as a Parquet table whose columns have
the schema's types, that has the columns every reader needs, and whose rows
all carry the config hash its name says (so a copy under another name, a
truncated upload, garbage or a dangling link is never taken for a result).
A rows file must also hold at least one row: it is what marks a trial done.

Checking is pure; `quarantine` is the one step that changes the store: it
moves each damaged file under `<sweep>/damaged/<stamp>/` (never deletes it),
so the trial is trained again and a person can still look at what was there.
A non-file where a file should be (a directory, a fifo, a dangling link) is
damage; a file this user may not read is not (StoreReadError: named, left
alone, never trained again). Records (`failed/`, `lr_search/`, a dense run's
outcome) must also hold the keys their readers use (RECORD_KEYS).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from suite.results.files import StoreReadError, entry_kind, move, read_bytes, where
from suite.results.layout import damaged_path
from suite.results.schema import TABLES
from suite.results.values import conform, nonfinite_problem, rehash_problem

# Columns without which a table cannot be used (a reader of an older file fills the others).
REQUIRED_COLUMNS = {
    "rows": ("config_hash", "config_json", "point_id", "point", "seed", "method", "model", "dataset", "status",
             "test_acc", "compression_ratio"),
    "layers": ("config_hash", "point_id", "layer"),
    "history": ("config_hash", "epoch"),
}


@dataclass(frozen=True)
class Damage:
    """A file that failed its check: where it is (relative to the root), why, and where it went."""

    relpath: str
    problem: str
    moved_to: str | None = None

    def describe(self, root: str) -> str:
        text = f"{where(root, self.relpath)}: {self.problem}"
        return text + (f" (moved to {self.moved_to})" if self.moved_to else "")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:200]


def check_table(data: bytes | None, table: str, config_hash: str) -> tuple[pa.Table | None, str | None]:
    """(the table, None) if `data` is a valid file of `table` for `config_hash`, else (None, the problem)."""
    if data is None:
        return None, "no readable file there (a dangling link?)"
    try:
        read = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # noqa: BLE001 - any failure to parse means the file is damaged
        return None, f"not a readable Parquet table ({first_line(exc)})"
    read, problem = conform(read, TABLES[table], table)  # lossless type differences are read
    if problem is not None:
        return None, problem
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in read.schema.names]
    if missing:
        return None, f"lacks column(s) {missing} of the {table} schema"
    if table == "rows" and read.num_rows == 0:
        return None, "holds no rows"
    hashes = set(read.column("config_hash").to_pylist())
    if read.num_rows and hashes != {config_hash}:
        return None, f"holds config hash(es) {sorted(map(str, hashes))}, not {config_hash!r} of its name"
    if table == "rows":
        problem = rehash_problem(read, config_hash) or nonfinite_problem(read.to_pylist())
    return (None, problem) if problem is not None else (read, None)


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# What every reader of a record of each kind (layout.kind_of) relies on: key -> (test, what is allowed).
RECORD_KEYS = {
    "failed": {"config_hash": (lambda v: isinstance(v, str), "a string"),
               "config": (lambda v: isinstance(v, dict), "an object"),
               "error": (lambda v: isinstance(v, str), "a string")},
    "lr_search": {"lr": (lambda v: _number(v) and v > 0, "a finite number > 0"),
                  "search": (lambda v: isinstance(v, dict) and _number(v.get("budget", 0)), "an object with a "
                             "numeric budget")},
    "checkpoint_outcome": {"status": (lambda v: isinstance(v, str) and v not in ("", "ok"), "a status other than ok")},
}


def check_record(data: bytes, kind: str = "other") -> tuple[dict | None, str | None]:
    """(the JSON object, None) or (None, the problem) for a JSON record file of `kind` (layout.kind_of)."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not valid JSON ({first_line(exc)})"
    if not isinstance(value, dict):
        return None, f"not a JSON object (a {type(value).__name__})"
    for key, (ok, allowed) in RECORD_KEYS.get(kind, {}).items():
        if key not in value or not ok(value[key]):
            found = "lacks it" if key not in value else f"has {str(value[key])[:60]!r}"
            return None, f"not a {kind} record: its {key!r} must be {allowed}, and it {found}"
    return value, None


def read_checked(root: str, relpath: str) -> tuple[bytes | None, str | None]:
    """The bytes at `relpath`, or (None, problem) when what is there is no readable file (damage).

    StoreReadError (files.py) when the file is there but reading it is not permitted: never damage."""
    try:
        kind = entry_kind(root, relpath)
        if kind not in ("file", "missing"):
            return None, f"{kind} where a file should be"
        return read_bytes(root, relpath), None
    except StoreReadError:
        raise
    except OSError as exc:
        return None, f"cannot be read ({first_line(exc)})"


def new_stamp() -> str:
    """The name of one quarantine's folder: when it happened (UTC, sortable)."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def quarantine(root: str, damaged: list[Damage], stamp: str | None = None) -> list[Damage]:
    """Move every damaged file aside (never delete it); returns them with `moved_to` set."""
    stamp = stamp or new_stamp()
    return [replace(d, moved_to=move(root, d.relpath, damaged_path(d.relpath, stamp))) for d in damaged]


__all__ = ["Damage", "REQUIRED_COLUMNS", "StoreReadError", "check_record", "check_table", "first_line", "new_stamp",
           "quarantine", "read_checked"]
