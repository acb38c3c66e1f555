"""Checking what the store counts, and moving damaged files aside.

A table file counts only when it reads as a Parquet table whose columns have
the schema's types, that has the columns every reader needs, and whose rows
all carry the config hash its name says (so a copy under another name, a
truncated upload, garbage or a dangling link is never taken for a result).
A rows file must also hold at least one row: it is what marks a trial done.

Checking is pure; `quarantine` is the one step that changes the store: it
moves each damaged file under `<sweep>/damaged/<stamp>/` (never deletes it),
so the trial is trained again and a person can still look at what was there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from suite.results.files import move, read_bytes, where
from suite.results.layout import damaged_path
from suite.results.schema import TABLES

# Columns without which a table cannot be used (a reader of an older file fills the others).
REQUIRED_COLUMNS = {
    "rows": ("config_hash", "point_id", "point", "seed", "method", "status", "test_acc", "compression_ratio"),
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
    schema = TABLES[table]
    for name in read.schema.names:
        if name in schema.names and not read.schema.field(name).type.equals(schema.field(name).type):
            return None, (f"column {name!r} has type {read.schema.field(name).type}, the {table} schema says "
                          f"{schema.field(name).type}")
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in read.schema.names]
    if missing:
        return None, f"lacks column(s) {missing} of the {table} schema"
    if table == "rows" and read.num_rows == 0:
        return None, "holds no rows"
    hashes = set(read.column("config_hash").to_pylist())
    if read.num_rows and hashes != {config_hash}:
        return None, f"holds config hash(es) {sorted(map(str, hashes))}, not {config_hash!r} of its name"
    return read, None


def check_record(data: bytes) -> tuple[dict | None, str | None]:
    """(the JSON object, None) or (None, the problem) for a JSON record file."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not valid JSON ({first_line(exc)})"
    if not isinstance(value, dict):
        return None, f"not a JSON object (a {type(value).__name__})"
    return value, None


def read_checked(root: str, relpath: str) -> tuple[bytes | None, str | None]:
    """The bytes at `relpath`, or (None, problem) when the file is there but cannot be read."""
    try:
        return read_bytes(root, relpath), None
    except OSError as exc:
        return None, f"cannot be read ({first_line(exc)})"


def new_stamp() -> str:
    """The name of one quarantine's folder: when it happened (UTC, sortable)."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def quarantine(root: str, damaged: list[Damage], stamp: str | None = None) -> list[Damage]:
    """Move every damaged file aside (never delete it); returns them with `moved_to` set."""
    stamp = stamp or new_stamp()
    return [replace(d, moved_to=move(root, d.relpath, damaged_path(d.relpath, stamp))) for d in damaged]


__all__ = ["Damage", "REQUIRED_COLUMNS", "check_record", "check_table", "first_line", "new_stamp", "quarantine", "read_checked"]
