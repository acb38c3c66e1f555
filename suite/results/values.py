"""What a stored table's values must be, beyond its file reading: types, finite numbers, the trial's name.

* Types: another writer (pandas, an older pyarrow, a colleague's script) may
  store a column with a losslessly wider or narrower type than the schema's
  (int32 `seed`, `timestamp[ns]` `created_at`, `large_string`, a pandas
  re-save that turns an integer column with nulls into doubles). Such a
  column is cast to the schema's type, checked (`safe`) so that no value
  changes; only a cast that would change a value, or one across kinds
  (text to number), makes the file not count.
* Finite numbers (`nonfinite_problem`): a NaN or infinity where no trial can
  produce one is refused when a trial is written and flagged when a file is
  read. What a trial can produce (schema.py): a diverged trial has NaN losses
  (and whatever norms its NaN weights give); an empty network has an infinite
  compression ratio. Nothing ever has a non-finite accuracy or setting.
* The name (`rehash_problem`): a rows file counts for a trial only when the
  config it stores hashes to its file name, so a result copied under another
  trial's name (even with its `config_hash` column rewritten) is never taken
  for that trial. A file without a stored config (null config_json: written
  by hand or by another tool) cannot be re-hashed; it counts by its
  config_hash column alone, as before.
"""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pyarrow.compute as pc

from suite.config import TrialConfig

# Never NaN or infinite, whatever the trial's status (null where a field does not apply).
ALWAYS_FINITE = ("test_acc", "train_acc", "lam", "lr", "target_compression", "wall_time_s")
# Finite unless the trial diverged (NaN loss; its weights, norms and counts are then whatever NaN made them).
FINITE_UNLESS_DIVERGED = ("test_loss", "train_loss", "sparsity", "l2_norm", "misalignment")
# Never NaN; +inf is an empty network (every counted weight zero), legitimate at any status.
NOT_NAN = ("compression_ratio",)


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_timestamp(t):
        return "time"
    if pa.types.is_null(t):
        return "null"
    return str(t)


def conform(read: pa.Table, schema: pa.Schema, table: str) -> tuple[pa.Table | None, str | None]:
    """(`read` with the schema's types where they differ losslessly, None), or (None, the problem)."""
    for name in read.schema.names:
        if name not in schema.names:
            continue
        have, want = read.schema.field(name).type, schema.field(name).type
        if have.equals(want):
            continue
        problem = (f"column {name!r} has type {have}, the {table} schema says {want}, and it does not convert "
                   "without changing a value")
        if _kind(have) not in (_kind(want), "null"):
            return None, problem
        try:
            column = pc.cast(read.column(name), want, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None, problem
        read = read.set_column(read.schema.get_field_index(name), pa.field(name, want), column)
    return read, None


def _bad(value: object, allow_inf: bool = False) -> bool:
    if not isinstance(value, float):
        return False
    return math.isnan(value) or (math.isinf(value) and not (allow_inf and value > 0))


def nonfinite_problem(rows: list[dict]) -> str | None:
    """None when every number of `rows` is one a trial can produce, else which column of which row is not."""
    for i, row in enumerate(rows):
        diverged = row.get("status") == "diverged"
        checks = [(c, False) for c in ALWAYS_FINITE] + [(c, True) for c in NOT_NAN]
        checks += [] if diverged else [(c, False) for c in FINITE_UNLESS_DIVERGED]
        for column, allow_inf in checks:
            if _bad(row.get(column), allow_inf):
                allowed = "a finite number or +inf (an empty network)" if allow_inf else "a finite number or null"
                return (f"row {i} (point {row.get('point_id')}, status {row.get('status')!r}) has {column} = "
                        f"{row.get(column)}; allowed: {allowed}"
                        + ("" if allow_inf or column in ALWAYS_FINITE else "; NaN only in a diverged trial"))
    return None


def rehash_problem(read: pa.Table, config_hash: str) -> str | None:
    """None when every config_json of the rows file hashes to `config_hash` (its name) and every data_sources
    (provenance: {file: md5}) is a JSON object, else why not."""
    if "data_sources" in read.schema.names:
        for text in set(read.column("data_sources").to_pylist()) - {None}:
            try:
                ok = isinstance(json.loads(text), dict)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                return f"its data_sources {str(text)[:60]!r} is not a JSON object of file -> md5"
    for text in set(read.column("config_json").to_pylist()) - {None}:
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as exc:
            return f"its config_json is not JSON ({type(exc).__name__})"
        if not isinstance(value, dict):
            return f"its config_json is not a JSON object (a {type(value).__name__})"
        try:
            got = TrialConfig.from_dict(value).config_hash
        except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
            return f"its config_json is not a config this version reads ({str(exc)[:160]})"
        if got != config_hash:
            return f"its config_json hashes to {got!r}, not {config_hash!r} of its name (another trial's result)"
    return None


__all__ = ["ALWAYS_FINITE", "FINITE_UNLESS_DIVERGED", "NOT_NAN", "conform", "nonfinite_problem", "rehash_problem"]
