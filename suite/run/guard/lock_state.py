"""Whether the process named in a sweep's lock file (driver.json) or a trial's claim may still be running.

`judge(holder, host, stale_after_s)` answers one of

* HELD  -- it may be running (its pid runs here, or another host's heartbeat is recent): refuse;
* GONE  -- it is not running, or cannot be holding the store any more: take the lock over. That is: a record
           that is not whole (missing fields, a pid that is not an integer, a NaN or infinite heartbeat, a
           started_at that is not a time); on this host, a pid that no longer runs or runs a process started
           after the lock was (the pid was reused); on any host, no heartbeat for longer than `stale_after_s`
           (a stopped, suspended or hung driver: when it resumes, it finds the lock taken and stops);
* ASK   -- only a person can tell: a heartbeat from the future (another host's clock runs ahead by more than
           `stale_after_s`, or the record was written by hand). The message names the file to delete.
"""

from __future__ import annotations

import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from suite.results.files import write_local

from suite.run.guard.process import pid_alive, pid_started_at

HELD, GONE, ASK = "held", "gone", "ask"


def _time(value) -> float | None:
    """A finite Unix time, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value) if 0 <= value < 1e11 else None


def iso(value) -> str:
    """A record's time as an ISO string, or what it holds when that is not a time."""
    ts = _time(value)
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds") if ts is not None else repr(value)


def beat_age(value, now: float | None = None) -> str:
    """'12s ago', '3596s in the future', or what the record holds when that is not a time."""
    ts = _time(value)
    if ts is None:
        return f"unreadable ({value!r})"
    age = (time.time() if now is None else now) - ts
    return f"{age:.0f}s ago" if age >= 0 else f"{-age:.0f}s in the future"


def judge(holder: dict, host: str, stale_after_s: float, now: float | None = None) -> tuple[str, str | None]:
    """(HELD | GONE | ASK, why) for the driver `holder` names, judged from `host` (see the module docstring)."""
    now = time.time() if now is None else now
    pid, beat, started = holder.get("pid"), _time(holder.get("heartbeat_at")), _time(holder.get("started_at"))
    where = holder.get("host")
    if not (isinstance(pid, int) and not isinstance(pid, bool) and isinstance(where, str)) or beat is None \
            or started is None:
        return GONE, (f"its record is not whole (pid {pid!r}, host {where!r}, heartbeat "
                      f"{holder.get('heartbeat_at')!r}, started_at {holder.get('started_at')!r})")
    if where == host:
        if not pid_alive(pid):
            return GONE, f"pid {pid} no longer runs on {host}"
        began = pid_started_at(pid)
        if began is not None and began > started + 2.0:
            return GONE, f"pid {pid} on {host} is another process now (started {iso(began)}, the record {iso(started)})"
    if beat - now > stale_after_s:
        return ASK, (f"its heartbeat is {beat - now:.0f}s in the future (a clock that runs ahead, or a record "
                     f"written by hand): whether it still runs cannot be told")
    if now - beat > stale_after_s:
        return GONE, (f"no heartbeat from {where} (pid {pid}) for {now - beat:.0f}s (> {stale_after_s:.0f}s): "
                      f"stopped, suspended or hung; if it resumes it finds the lock taken and stops")
    return HELD, None


def publish_exclusive(path: Path, record: bytes, token: str) -> bool:
    """Create the record at `path`, whole, only if nothing is there (True if created): a driver lock or a trial claim.

    The record is written to a private file first and then hard-linked into place, which fails if the file
    exists: no other process can ever read a record that is still being written (an empty one would read as
    damage and be taken over, and both would run). Where hard links are not supported, an O_EXCL create that is
    written right after is the fallback."""
    path.parent.mkdir(parents=True, exist_ok=True)
    private = path.with_name(f".{path.name}.{token}")
    write_local(private, record)  # whole and on disk before anyone can see it
    try:
        os.link(private, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system
        return _create_with_o_excl(path, record)
    finally:
        private.unlink(missing_ok=True)


def _create_with_o_excl(path: Path, record: bytes) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(record)
        out.flush()
        os.fsync(out.fileno())
    return True


__all__ = ["ASK", "GONE", "HELD", "beat_age", "iso", "judge", "publish_exclusive"]
