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

import json
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from suite.results.files import delete, read_bytes, uri_fs, write_local

from suite.run.guard.process import pid_alive, pid_started_at

HELD, GONE, ASK = "held", "gone", "ask"


def as_time(value) -> float | None:
    """A finite Unix time (0 to 1e11), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value) if 0 <= value < 1e11 else None


def iso(value) -> str:
    """A record's time as an ISO string, or what it holds when that is not a time."""
    ts = as_time(value)
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds") if ts is not None else repr(value)


def beat_age(value, now: float | None = None) -> str:
    """'12s ago', '3596s in the future', or what the record holds when that is not a time."""
    ts = as_time(value)
    if ts is None:
        return f"unreadable ({value!r})"
    age = (time.time() if now is None else now) - ts
    return f"{age:.0f}s ago" if age >= 0 else f"{-age:.0f}s in the future"


def judge(holder: dict, host: str, stale_after_s: float, now: float | None = None) -> tuple[str, str | None]:
    """(HELD | GONE | ASK, why) for the driver `holder` names, judged from `host` (see the module docstring)."""
    now = time.time() if now is None else now
    pid, beat, started = holder.get("pid"), as_time(holder.get("heartbeat_at")), as_time(holder.get("started_at"))
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


def take_over_exclusive(path: Path, judged: bytes | None, record: bytes, token: str,
                        revived: Callable[[], bool]) -> bool:
    """Replace the record at `path`, judged gone from its bytes `judged`, by `record` (True: this process holds it
    now; False: look again). The judged record is moved aside first, so of two takers one moves it; if what was
    moved is not what was judged (a fresh record written meanwhile) or its holder beat since it was judged
    (`revived`), it is put back, and the caller waits for that holder."""
    aside = path.with_name(f".{path.name}.{token}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False  # another process took it over (or its holder released it) first
    try:
        if (judged is not None and aside.read_bytes() != judged) or revived():  # None: it could not be read
            try:
                os.link(aside, path)
            except FileExistsError:
                pass
            return False
    finally:
        aside.unlink(missing_ok=True)
    return publish_exclusive(path, record, token)


def release_record(root: str, relpath: str, token: str) -> None:
    """Delete a lock's or claim's record if it is still `token`'s: locally by `release_own`; on URI stores (no
    rename that fails on a race) read, then deleted: best effort there, as the lock is."""
    if uri_fs(root) is None:
        release_own(Path(root) / relpath, token)
        return
    try:
        data = read_bytes(root, relpath)
        if data is not None and _token_of(data) == token:
            delete(root, relpath)
    except OSError:
        pass  # a record left behind goes stale by `judge`


def _token_of(data: bytes) -> object:
    try:
        return json.loads(data).get("token")
    except (ValueError, AttributeError, RecursionError):
        return None


def release_own(path: Path, token: str) -> None:
    """Delete the record at `path` only if it names `token`. It is moved aside before it is read, so a holder
    stalled between its look and the delete cannot delete a record another process took over meanwhile: what
    is not its own is put back."""
    aside = path.with_name(f".{path.name}.{token}.release")
    try:
        os.rename(path, aside)
    except OSError:  # gone, or the store fails (its folder replaced by a file ...): one left behind goes stale
        return
    try:
        if _token_of(aside.read_bytes()) != token:
            try:
                os.link(aside, path)
            except FileExistsError:
                pass  # a newer record stands there already
    finally:
        aside.unlink(missing_ok=True)


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


__all__ = ["ASK", "GONE", "HELD", "as_time", "beat_age", "iso", "judge", "publish_exclusive", "release_own",
           "release_record", "take_over_exclusive"]
