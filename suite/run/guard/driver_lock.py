"""One driver per sweep store at a time: a lock file naming its holder, with a heartbeat.

Two `bench sweep` (or `bench run --sweep`) runs of one spec on one store would plan the same trials
and train each twice. The driver therefore holds `<sweep>/driver.json`
(host, pid, token, start; written once, when taken) and beats in a file of its own beside it
(`suite.run.guard.beat`: no beat ever rewrites the record) while it runs; a second driver finds it and
stops with a message naming the holder (`StoreBusy`), before Ray starts.

A holder that is gone leaves its file behind; `suite.run.guard.lock_state.judge` says when it is taken over (a dead
or reused pid, a heartbeat older than `stale_after_s`, a record that is not whole), and when only a person can
tell (a heartbeat from the future): then the message names the file to delete.

A lock cannot be outlived: a driver stopped past the staleness (kill -STOP, a suspended laptop) whose lock
another driver took over finds, at its next heartbeat, that the file names someone else; it then stops
scheduling at once (KeyboardInterrupt in the main thread; `lost` says why) and its run ends non-zero.

Locally the file is published whole and exclusively (a hard link of a
private copy, which fails if the lock exists), so of two drivers starting
together exactly one gets it, and none reads the other's half-written file. On URI roots (object stores have no
exclusive create) and
when two drivers take over the same stale lock at once, the lock is
best-effort: a driver writes its record, waits, and reads it back.
$BENCH_LOCK_STALE_S and $BENCH_LOCK_BEAT_S change the staleness (300 s) and the heartbeat (30 s).
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import threading
import time
import uuid
import signal
from pathlib import Path

from suite.run.guard.beat import beat_since, beat_step, drop_beat, drop_other_beats, with_beat
from suite.run.guard.lock_state import (ASK, HELD, beat_age, iso, judge, publish_exclusive, release_record,
                                        take_over_exclusive)
from suite.results.check import check_record
from suite.results.files import read_bytes, uri_fs, where, write_bytes
from suite.results.layout import driver_path

def _env_seconds(name: str, default: float) -> float:
    """$name as seconds > 0, else `default` (a value that is not one is named on stderr and not used)."""
    text = os.environ.get(name)
    try:
        value = float(text) if text else default
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        sys.stderr.write(f"warning: ${name}={text!r} is not a number of seconds > 0; using {default:g}\n")
        return default
    return value


STALE_AFTER_S = _env_seconds("BENCH_LOCK_STALE_S", 300.0)
BEAT_S = _env_seconds("BENCH_LOCK_BEAT_S", 30.0)


# The locks this process holds, by (root, sweep): what its workers are told of their driver (`lock_ticket`).
_HELD: dict[tuple[str, str], "DriverLock"] = {}


def lock_ticket(root: str, sweep: str) -> dict | None:
    """What a worker needs to know of the lock this process holds on `sweep` (None if it holds none): its token,
    so a worker of a driver that lost its lock trains nothing, and its timings, so a trial's claim
    (suite.run.guard.trial_claim) goes stale on the same rules."""
    lock = _HELD.get((str(root), sweep))
    if lock is None:
        return None
    return {"sweep": sweep, "token": lock.token, "stale_after_s": lock.stale_after_s, "beat_s": lock.beat_s}


class StoreBusy(RuntimeError):
    """Another driver runs this sweep on this store; the message names it."""


class LockLost(RuntimeError):
    """Another driver took this driver's lock over (it had been stopped past the staleness); the message says so."""


def _now() -> float:
    return time.time()


class DriverLock:
    """`with DriverLock(root, sweep) as lock:` holds the sweep's store; `lock.note` says what was taken over."""

    def __init__(self, root: str, sweep: str, stale_after_s: float = STALE_AFTER_S, beat_s: float = BEAT_S):
        self.root, self.sweep = root, sweep
        self.relpath = driver_path(sweep)
        self.stale_after_s, self.beat_s = stale_after_s, beat_s
        self.token = uuid.uuid4().hex
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.started_at = _now()
        self.note: str | None = None
        self.lost: str | None = None  # set when another driver took the lock over: why this one must stop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ignored_sigint = None  # SIGINT's disposition to restore at release (`_hear_sigint`)

    # ------------------------------------------------------------------ record

    def _record(self) -> bytes:
        return json.dumps({"host": self.host, "pid": self.pid, "token": self.token,
                           "started_at": self.started_at, "heartbeat_at": _now()}).encode()

    def _look(self) -> tuple[dict | None, str | None, bytes | None]:
        """(the holder, judged by its beat too; what is wrong with the file; its bytes)."""
        try:
            data = read_bytes(self.root, self.relpath)
        except OSError as exc:
            return None, f"cannot be read ({exc})", None
        if data is None:
            return None, None, None
        holder, problem = check_record(data)
        return (with_beat(self.root, self.relpath, holder) if holder is not None else None), problem, data

    def _read(self) -> tuple[dict | None, str | None]:
        holder, problem, _ = self._look()
        return holder, problem

    def describe(self, holder: dict, why: str | None = None) -> str:
        path = where(self.root, self.relpath)
        text = (f"sweep {self.sweep!r} in {self.root} is being run by another driver: pid {holder.get('pid')} on "
                f"host {holder.get('host')}, since {iso(holder.get('started_at'))}, last heartbeat "
                f"{beat_age(holder.get('heartbeat_at'))} ({path}). ")
        if why is not None:  # only a person can decide
            return text + (f"{why}. If no driver runs sweep {self.sweep!r} on this store, delete {path} and "
                           f"start again; otherwise wait for it to end")
        return text + (f"Wait for it to end or stop it; a driver that is gone is taken over automatically (on its "
                       f"host at once, else after {self.stale_after_s:.0f}s without a heartbeat)")

    # ------------------------------------------------------------------ acquire / release

    def _create_exclusive(self) -> bool:
        """Locally: create the file, whole, only if absent (True if created): `publish_exclusive`."""
        return publish_exclusive(Path(self.root) / self.relpath, self._record(), self.token)

    def acquire(self) -> "DriverLock":
        local = uri_fs(self.root) is None
        if local and self._create_exclusive():
            return self._held(None)
        holder, problem, data = self._look()
        if holder is not None:
            verdict, why = judge(holder, self.host, self.stale_after_s)
            if verdict == HELD:
                raise StoreBusy(self.describe(holder))
            if verdict == ASK:
                raise StoreBusy(self.describe(holder, why))
            self.note = (f"took over the lock of a driver that is gone (pid {holder.get('pid')} on "
                         f"{holder.get('host')}: {why})")
        elif problem is not None:
            self.note = f"took over an unreadable driver lock ({problem})"
        elif local and self._create_exclusive():  # released between the two looks
            return self._held(None)
        if not self._take_over(local, holder, data):
            raise StoreBusy(self.describe(self._read()[0] or {}))
        return self._held(holder.get("token") if holder is not None else None)

    def _take_over(self, local: bool, judged: dict | None, data: bytes | None) -> bool:
        """Replace the record judged gone (True: held now). Locally it is moved aside and this one published
        exclusively (`take_over_exclusive`), so a taker stalled since its look cannot overwrite a newer holder;
        on URI stores (no exclusive create) written, then read back after a pause."""
        if local:
            return take_over_exclusive(Path(self.root) / self.relpath, data, self._record(), self.token,
                                       beat_since(self.root, self.relpath, judged))
        write_bytes(self.root, self.relpath, self._record())
        time.sleep(0.2)  # let a driver taking over at the same moment write; then see who won
        holder, _ = self._read()
        return holder is not None and holder.get("token") == self.token

    def _held(self, gone: str | None) -> "DriverLock":
        drop_beat(self.root, self.relpath, gone)  # the gone holder's; should it resume, the record tells it
        drop_other_beats(self.root, self.relpath, self.token)
        self._hear_sigint()
        self._start_heartbeat()
        return self

    def _hear_sigint(self) -> None:
        """A driver started in the background by a shell (`nohup bench sweep ... &`) inherits SIGINT ignored, so
        the SIGINT `_lost` sends, and a `kill -INT`, would do nothing: while the lock is held, SIGINT raises
        KeyboardInterrupt again (no terminal sends it to a background job)."""
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            self._ignored_sigint = signal.signal(signal.SIGINT, signal.default_int_handler)

    def _start_heartbeat(self) -> None:
        _HELD[(str(self.root), self.sweep)] = self
        self._thread = threading.Thread(target=self._beat, name="bench-driver-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.beat_s) and self.beat_once():
            pass

    def beat_once(self) -> bool:
        """One heartbeat: False once the lock is someone else's (then `_lost` has stopped this driver)."""
        holder, problem = self._read()
        if beat_step(self.root, self.relpath, self.token, holder, problem):
            return True
        self._lost(holder)  # taken over (after a long stall), or deleted
        return False

    def _lost(self, holder: dict | None) -> None:
        """Another driver holds the store now: stop this one's scheduling at once (in its main thread)."""
        if self._stop.is_set():
            return
        self.lost = self._lost_text(holder)
        # A real SIGINT to the main thread (not _thread.interrupt_main): it also wakes a blocking call there.
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def _lost_text(self, holder: dict | None) -> str:
        now = (f"pid {holder.get('pid')} on host {holder.get('host')} holds it now" if holder
               else "its lock file is gone")
        return (f"this driver lost the lock of sweep {self.sweep!r} ({where(self.root, self.relpath)}): "
                f"{now}, having taken it over while this driver was stopped or hung for longer than "
                f"{self.stale_after_s:.0f}s. Stopped scheduling; trials finished before are in the store, the "
                f"other driver runs the rest")

    def confirm(self) -> None:
        """At the end of a run, before release: LockLost if another driver took the lock over meanwhile and the
        heartbeat had no time to say so (a driver resumed from a stop whose last trials then finished at once).
        A lock file that cannot be read now is no proof of loss."""
        if self.lost is None:
            holder, problem = self._read()
            if problem is None and (holder is None or holder.get("token") != self.token):
                self._stop.set()  # the run is over: no interrupt, just the verdict
                self.lost = self._lost_text(holder)
        if self.lost is not None:
            raise LockLost(self.lost)

    def release(self) -> None:
        self._stop.set()
        if _HELD.get((str(self.root), self.sweep)) is self:
            del _HELD[(str(self.root), self.sweep)]
        if self._thread is not None:
            self._thread.join(timeout=5)
        release_record(self.root, self.relpath, self.token)
        drop_beat(self.root, self.relpath, self.token)
        if self._ignored_sigint is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._ignored_sigint)  # as the shell left it
            self._ignored_sigint = None

    def __enter__(self) -> "DriverLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


__all__ = ["BEAT_S", "DriverLock", "LockLost", "STALE_AFTER_S", "StoreBusy", "lock_ticket"]
