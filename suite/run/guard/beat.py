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
import math
import time

from suite.results.files import delete, read_bytes, write_bytes
from suite.results.layout import StoreNameError, beat_path


def write_beat(root: str, record: str, token: str) -> None:
    """This holder is alive now (OSError where the store fails: the caller's trials report that)."""
    write_bytes(root, beat_path(record, token), json.dumps({"heartbeat_at": time.time()}).encode())


def with_beat(root: str, record: str, holder: dict) -> dict:
    """`holder` with `heartbeat_at` moved on to its beat file's time where that is later. A beat file that is
    missing, unreadable or not a time changes nothing (the record's own time then judges it)."""
    try:
        data = read_bytes(root, beat_path(record, holder.get("token")))
        beat = json.loads(data)["heartbeat_at"] if data is not None else None
    except (OSError, StoreNameError, ValueError, KeyError, TypeError):
        return holder
    own = holder.get("heartbeat_at")
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)  # noqa: E731
    if number(beat) and (not number(own) or beat > own):
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


__all__ = ["drop_beat", "with_beat", "write_beat"]
