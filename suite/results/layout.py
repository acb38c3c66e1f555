"""Where the store keeps what: the one module that knows the file layout.

Under a results root (a directory or a URI)::

    <root>/<sweep>/rows/<config_hash>.parquet      one row per evaluated sparsity point (marks "done")
    <root>/<sweep>/layers/<config_hash>.parquet    per-layer counts of each point
    <root>/<sweep>/history/<config_hash>.parquet   per-epoch training history
    <root>/<sweep>/failed/<config_hash>.json       error of a trial that raised
    <root>/<sweep>/lr_search/<key>.json            a finished learning-rate search
    <root>/<sweep>/lr_search/rows/...              that search's trials (the sub-sweep <sweep>/lr_search)
    <root>/<sweep>/damaged/<when>/<relpath>        files that failed their check, moved aside, never deleted
    <root>/<sweep>/driver.json                     the driver that currently runs the sweep (see run/guard/driver_lock)
    <root>/<sweep>/claims/<config_hash>.json       a trial in flight and who trains it (see run/guard/trial_claim)
    <record>.<token>.beat                          the heartbeat of the holder `token` of driver.json or a claim
                                                   (see run/guard/beat): kept apart, so no beat rewrites a record
    <root>/checkpoints/<dense config_hash>.pt      trained dense weights shared with GMP (results/checkpoints)

Every path is built here from checked names, so no sweep name, table or hash
can point outside its sweep folder.
"""

from __future__ import annotations

import re

TABLE_NAMES = ("rows", "layers", "history")
# A sweep name is one path component: letters, digits, '_', '.', '-', not starting
# with '.' (so never '.', '..' or a hidden name) and not too long for a file name.
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
# The only sub-sweep the code itself writes: the trials (and records) of the lr searches.
LR_SEARCH = "lr_search"
SUB_SWEEPS = (LR_SEARCH,)
CHECKPOINTS = "checkpoints"
# Config hashes, lr-search keys and stamps: the same safe single component (the hash's form is config.py's business).
_KEY = _SAFE
SWEEP_NAME_RULE = "one path component of letters, digits, '_', '.', '-' that does not start with '.' (at most 128)"


class StoreNameError(ValueError):
    """A sweep name, table or key would leave its folder; the message says what is allowed."""


def check_sweep_name(name: object, what: str = "sweep name") -> str:
    """`name` if it is a safe single path component (user input: specs, --sweep, bench report)."""
    if not (isinstance(name, str) and _SAFE.fullmatch(name)):
        raise StoreNameError(f"{what} {name!r} is not allowed; allowed: {SWEEP_NAME_RULE}")
    return name


def check_store_sweep(sweep: object) -> str:
    """A sweep folder the store writes: a safe name, or `NAME/lr_search` (the lr-search trials)."""
    if isinstance(sweep, str) and "/" in sweep:
        head, _, tail = sweep.partition("/")
        if tail in SUB_SWEEPS:
            check_sweep_name(head)
            return sweep
    return check_sweep_name(sweep)


def _check(pattern: re.Pattern, value: object, what: str) -> str:
    if not (isinstance(value, str) and pattern.fullmatch(value)):
        raise StoreNameError(f"{what} {value!r} is not allowed; allowed: {pattern.pattern}")
    return value


def table_path(sweep: str, table: str, config_hash: str) -> str:
    if table not in TABLE_NAMES:
        raise StoreNameError(f"unknown table {table!r}; allowed: {', '.join(TABLE_NAMES)}")
    return f"{table_dir(sweep, table)}/{_check(_KEY, config_hash, 'config hash')}.parquet"


def table_dir(sweep: str, table: str) -> str:
    if table not in TABLE_NAMES:
        raise StoreNameError(f"unknown table {table!r}; allowed: {', '.join(TABLE_NAMES)}")
    return f"{check_store_sweep(sweep)}/{table}"


def failed_dir(sweep: str) -> str:
    return f"{check_store_sweep(sweep)}/failed"


def failed_path(sweep: str, config_hash: str) -> str:
    return f"{failed_dir(sweep)}/{_check(_KEY, config_hash, 'config hash')}.json"


def lr_search_sweep(sweep: str) -> str:
    """The sub-sweep that holds a sweep's lr-search trials (and, beside them, its search records)."""
    return f"{check_sweep_name(sweep)}/{LR_SEARCH}"


def lr_search_path(sweep: str, key: str) -> str:
    return f"{lr_search_sweep(sweep)}/{_check(_KEY, key, 'lr search key')}.json"


def checkpoint_path(key: str) -> str:
    return f"{CHECKPOINTS}/{_check(_KEY, key, 'checkpoint key')}.pt"


def checkpoint_outcome_path(key: str) -> str:
    """Where a dense run that ended without a network (diverged) says so, instead of a checkpoint."""
    return f"{CHECKPOINTS}/{_check(_KEY, key, 'checkpoint key')}.json"


def kind_of(relpath: str) -> str:
    """What a stored file is, from its path: a table name, "failed", "lr_search" (a search record),
    "checkpoint_outcome" (a dense run that ended without a network), "folder" (a sweep's table or failure
    folder itself) or "other"."""
    parts = relpath.split("/")
    if parts == [CHECKPOINTS, parts[-1]] and relpath.endswith(".json"):
        return "checkpoint_outcome"
    if len(parts) >= 2 and parts[-1] in TABLE_NAMES + ("failed",):  # no suffix: the folder itself
        return "folder"
    if len(parts) >= 2 and parts[-2] in TABLE_NAMES + ("failed",):
        return parts[-2]
    if len(parts) >= 2 and parts[-2] == LR_SEARCH and relpath.endswith(".json"):
        return LR_SEARCH
    return "other"


def driver_path(sweep: str) -> str:
    return f"{check_store_sweep(sweep)}/driver.json"


def claim_path(sweep: str, config_hash: str) -> str:
    return f"{check_store_sweep(sweep)}/claims/{_check(_KEY, config_hash, 'config hash')}.json"


_TOKEN = re.compile(r"[0-9a-f]{1,64}")


def beat_path(record: str, token: object) -> str:
    """The heartbeat file of the holder `token` (a hex string) of the lock or claim at `record`; ValueError
    (StoreNameError) for a token that is not one, e.g. a foreign record's, so no record can point a read
    elsewhere."""
    return f"{record}.{_check(_TOKEN, token, 'holder token')}.beat"


def damaged_path(relpath: str, stamp: str) -> str:
    """Where a damaged file goes: under its top-level sweep's damaged/<stamp>/, keeping its relative path."""
    top, _, rest = relpath.partition("/")
    check_sweep_name(top)
    return f"{top}/damaged/{_check(_KEY, stamp, 'stamp')}/{rest}"


__all__ = [
    "CHECKPOINTS", "LR_SEARCH", "SUB_SWEEPS", "SWEEP_NAME_RULE", "StoreNameError", "TABLE_NAMES", "check_store_sweep",
    "beat_path", "check_sweep_name", "checkpoint_path", "claim_path", "damaged_path", "driver_path", "failed_dir",
    "failed_path", "kind_of", "lr_search_path", "lr_search_sweep", "table_dir", "table_path",
]
