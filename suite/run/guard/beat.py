"""A holder's heartbeat in a file of its own, beside the record it holds (driver.json, a trial's claim).

Why apart: a heartbeat that rewrote the record had to read it (is the token still mine?) and then write it
whole. A holder stopped between the two while another process took the record over wrote its own record
over the taker's when it resumed; the taker then found a foreign token and gave up, and the stale one ran
on (docs/reliability.md). Here the record is written only when it is taken (created, or taken over), and
a beat writes only `<record>.<token>.beat`, which no other holder ever writes: a resumed holder can no
longer overwrite anything of the taker's, and its next look at the record tells it that it lost.

A reader judges a record by its last sign of life: the later of the record's own `heartbeat_at` (when it
was taken) and its holder's beat file (`with_beat`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from suite.results.files import delete, read_bytes, uri_fs, write_bytes
from suite.results.layout import StoreNameError, beat_path
from suite.run.guard.lock_state import as_time


def write_beat(root: str, record: str, token: str) -> None:
    """This holder is alive now (OSError where the store fails: the caller's trials report that)."""
    write_bytes(root, beat_path(record, token), json.dumps({"heartbeat_at": time.time()}).encode())


def beat_step(root: str, record: str, token: str, holder: dict | None, problem: str | None) -> bool:
    """One heartbeat of the holder `token`, given its look at the record (`holder`, `problem`): False once the
    record names another holder or is gone (the caller stops); else True, its beat written (not while the record
    is unreadable for now, a failing store or a write under way: neither stop nor beat)."""
    if holder is None and problem is not None:
        return True
    if holder is None or holder.get("token") != token:
        return False
    try:
        write_beat(root, record, token)  # never the record: a taker's stays whole
    except OSError:
        pass  # the store may be failing; the trials report that themselves
    return True


def beat_since(root: str, record: str, judged: dict | None) -> Callable[[], bool]:
    """For `lock_state.take_over_exclusive`: whether the holder `judged` gone has beat since it was judged."""
    return lambda: judged is not None and with_beat(root, record, judged) != judged


def with_beat(root: str, record: str, holder: dict) -> dict:
    """`holder` with `heartbeat_at` moved on to its beat file's time where that is later. A beat file that is
    missing, unreadable or not a time (`lock_state.as_time`) changes nothing (the record's own time then judges
    it), nor does any beat a record whose own time is not one (it is not whole: `lock_state.judge`)."""
    try:
        data = read_bytes(root, beat_path(record, holder.get("token")))
        beat = as_time(json.loads(data)["heartbeat_at"]) if data is not None else None
    except (OSError, StoreNameError, ValueError, KeyError, TypeError, RecursionError):
        return holder
    own = as_time(holder.get("heartbeat_at"))
    if beat is not None and own is not None and beat > own:  # a record that is not whole stays so (judge)
        return {**holder, "heartbeat_at": beat}
    return holder


def drop_beat(root: str, record: str, token: object) -> None:
    """Delete a holder's beat file (its own at release; a gone holder's after a takeover); best effort."""
    if token is None:
        return
    try:
        delete(root, beat_path(record, token))
    except (OSError, StoreNameError):
        pass


def drop_other_beats(root: str, record: str, token: str) -> None:
    """Locally, delete every beat file of `record` but `token`'s: what holders that are gone left (one that beat
    once more after its takeover, a record deleted by hand). Never read again (tokens are unique), but they would
    pile up in `claims/`. On URI stores nothing is listed: best effort, as the lock is there."""
    if uri_fs(root) is not None:
        return
    path = Path(root) / record
    own = Path(root) / beat_path(record, token)
    try:
        for left in path.parent.glob(f"{path.name}.*.beat"):
            if left != own:
                left.unlink(missing_ok=True)
    except OSError:
        pass  # a failing store: the trials report that themselves


__all__ = ["beat_since", "beat_step", "drop_beat", "drop_other_beats", "with_beat", "write_beat"]
