"""A trial in flight is claimed, so that no other driver starts it: per-trial claim files.

The driver lock (suite.run.guard.driver_lock) keeps two drivers from planning the same trials, but a driver stopped
past the lock's staleness (kill -STOP, a preempted login node) has trials in flight in its workers when another
driver takes the store over and plans them again. So whoever trains a trial -- a sweep's worker or `bench run`
-- first creates `<sweep>/claims/<config_hash>.json` exclusively (host, pid of the process that trains, the
token of its driver's lock, start; written once), keeps a heartbeat in a file of its own beside it while
training (`suite.run.guard.beat`: no beat rewrites the claim), and deletes both once the result (or the
failure) is stored. Another process about to train the same trial finds the claim and

* waits while its holder may still run (its pid runs here, or another host's heartbeat is recent), re-checking
  the store: when the holder stores the result, the trial is answered from it and trained once;
* takes the claim over when its holder is gone, on the lock's own rules (`suite.run.guard.lock_state.judge`): a dead
  or reused pid on this host, no heartbeat for longer than the staleness, a record that is not whole. So a
  crashed driver's claims never block: the next run trains those trials;
* refuses, naming the claim file to delete, where only a person can tell (a heartbeat from the future).

A holder whose claim was taken over (it was stopped past the staleness with its workers: a suspended machine)
notices at its next heartbeat and stops at the next epoch, storing nothing; the taker trains the trial. A worker
whose driver no longer holds the sweep's lock trains nothing at all (`lock_refusal`). On URI stores (no
exclusive create) a claim is best-effort, as the lock is: written, then read back.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, TypeVar

from suite.results.check import check_record
from suite.results.files import read_bytes, uri_fs, where, write_bytes
from suite.results.layout import claim_path, driver_path
from suite.run.guard.beat import beat_since, beat_step, drop_beat, drop_other_beats, with_beat
from suite.run.guard.driver_lock import BEAT_S, STALE_AFTER_S
from suite.run.guard.lock_state import (ASK, GONE, beat_age, iso, judge, publish_exclusive, release_record,
                                        take_over_exclusive)

T = TypeVar("T")


class ClaimBlocked(RuntimeError):
    """A claim only a person can judge (a heartbeat from the future): the message names the file to delete."""


class ClaimLost(RuntimeError):
    """This process's claim was taken over (it had been stopped past the staleness): another one trains the trial."""


class TrialClaim:
    """`claim.try_take()` until it returns None (held), `claim.check()` each epoch, `claim.release()` at the end."""

    def __init__(self, root: str, sweep: str, config_hash: str, driver: str | None = None,
                 stale_after_s: float = STALE_AFTER_S, beat_s: float = BEAT_S):
        self.root, self.sweep, self.config_hash = str(root), sweep, config_hash
        self.relpath = claim_path(sweep, config_hash)
        self.driver, self.stale_after_s, self.beat_s = driver, stale_after_s, beat_s
        self.token, self.host, self.pid = uuid.uuid4().hex, socket.gethostname(), os.getpid()
        self.started_at = time.time()
        self.held, self.lost, self.note = False, None, None  # note: what was taken over, in words
        self._stop = threading.Event()

    @property
    def path(self) -> str:
        return where(self.root, self.relpath)

    def _record(self) -> bytes:
        return json.dumps({"host": self.host, "pid": self.pid, "token": self.token, "driver": self.driver,
                           "config_hash": self.config_hash, "started_at": self.started_at,
                           "heartbeat_at": time.time()}).encode()

    def _read(self) -> tuple[dict | None, str | None, bytes | None]:
        try:
            data = read_bytes(self.root, self.relpath)
        except OSError as exc:
            return None, f"cannot be read ({exc})", None
        if data is None:
            return None, None, None
        holder, problem = check_record(data)
        return (with_beat(self.root, self.relpath, holder) if holder is not None else None), problem, data

    def describe(self, holder: dict) -> str:
        return (f"trial {self.config_hash} of sweep {self.sweep!r} is being trained by pid {holder.get('pid')} on "
                f"host {holder.get('host')} (since {iso(holder.get('started_at'))}, last heartbeat "
                f"{beat_age(holder.get('heartbeat_at'))}; {self.path})")

    # ------------------------------------------------------------------ take

    def try_take(self) -> dict | None:
        """None once this process holds the claim; else the record of a holder that may still run (wait and
        try again). ClaimBlocked where only a person can tell."""
        local = uri_fs(self.root) is None
        if local and publish_exclusive(Path(self.root) / self.relpath, self._record(), self.token):
            return self._hold()
        holder, problem, data = self._read()
        if holder is not None:
            verdict, why = judge(holder, self.host, self.stale_after_s)
            if verdict == ASK:
                raise ClaimBlocked(f"{self.describe(holder)}: {why}. If no driver trains it, delete {self.path} and "
                                   f"run again")
            if verdict != GONE:
                return holder
            self.note = f"took over the claim of {self.describe(holder)}: {why}"
        elif problem is not None and data is None:  # not this user's to read: whether it runs cannot be told
            raise ClaimBlocked(f"the claim on trial {self.config_hash} of sweep {self.sweep!r} {problem}. If no "
                               f"driver trains it, delete {self.path} and run again")
        elif problem is not None:
            self.note = f"took over a claim that is not a record ({self.path}: {problem})"
        elif local and os.path.lexists(Path(self.root) / self.relpath):  # a folder, a dangling link ...
            raise ClaimBlocked(f"what stands at the claim of trial {self.config_hash} ({self.path}) is not a file; "
                               f"delete it and run again")
        elif local:
            return {}  # it was released between the two looks: try again
        gone = holder.get("token") if holder is not None else None
        if local:
            took = take_over_exclusive(Path(self.root) / self.relpath, data, self._record(), self.token,
                                       beat_since(self.root, self.relpath, holder))
            return self._hold(gone) if took else {}  # not taken: look again (a holder that beat is waited for)
        write_bytes(self.root, self.relpath, self._record())
        time.sleep(0.2)  # let a process taking over at the same moment write; then see who won
        holder, _, _ = self._read()
        return self._hold(gone) if holder is not None and holder.get("token") == self.token else (holder or {})

    def _hold(self, gone: str | None = None) -> None:
        """This process holds the claim now; `gone`: the token of a holder it took over (its beat is dropped)."""
        drop_beat(self.root, self.relpath, gone)
        drop_other_beats(self.root, self.relpath, self.token)
        self.held = True
        self._heart = threading.Thread(target=self._beat, name="bench-claim-heartbeat", daemon=True)
        self._heart.start()
        return None

    # ------------------------------------------------------------------ hold

    def _beat(self) -> None:
        while not self._stop.wait(self.beat_s) and self.beat_once():
            pass

    def beat_once(self) -> bool:
        """One heartbeat: False once the claim is someone else's (then `lost` says why)."""
        holder, problem, _ = self._read()
        if beat_step(self.root, self.relpath, self.token, holder, problem):
            return True
        now = (f"pid {holder.get('pid')} on host {holder.get('host')} trains it now" if holder
               else "its claim file is gone")
        self.lost = (f"the claim on trial {self.config_hash} ({self.path}) was taken over: {now}, this "
                     f"process having been stopped or hung for longer than {self.stale_after_s:.0f}s")
        return False

    def check(self, *_progress) -> None:
        """ClaimLost once the claim was taken over (called at each epoch: a progress callback)."""
        if self.lost is not None:
            raise ClaimLost(self.lost)

    def release(self) -> None:
        """Delete the claim if it is still this process's own (never another's)."""
        self._stop.set()
        if not self.held:
            return
        self.held = False
        # A beat already past its stop check would write its beat file back after the delete (an orphan the
        # next taker of this trial's claim would have to outlive): wait for it first.
        heart = getattr(self, "_heart", None)
        if heart is not None and heart is not threading.current_thread():
            heart.join(timeout=max(10.0, 2 * self.beat_s))
        release_record(self.root, self.relpath, self.token)  # never another's; one left behind goes stale
        drop_beat(self.root, self.relpath, self.token)


def claim_trial(claim: TrialClaim, stored: Callable[[], T | None], say: Callable[[str], None] | None = None,
                poll_s: float = 1.0) -> T | None:
    """Hold `claim`, waiting while a live holder trains the trial; returns what `stored()` finds once the trial is
    in the store (then no claim is held), else None with the claim held. `say` hears once why it waits."""
    said = False
    while True:
        found = stored()
        if found:
            return found
        holder = claim.try_take()
        if holder is None:
            try:
                found = stored()  # stored by the holder just before it let go
            except BaseException:
                claim.release()
                raise
            if found:
                claim.release()
            return found or None
        if holder and say is not None and not said:
            say(f"waiting: {claim.describe(holder)}; it is trained once, and taken over if its holder goes away")
            said = True
        time.sleep(min(poll_s, claim.beat_s))


def lock_refusal(root: str, ticket: dict | None) -> str | None:
    """Why a worker must not train: another driver's record is in the sweep's lock file (it took the store over
    while this worker's driver was stopped), or None. A lock file that is gone or cannot be read now proves no
    other driver (a failing store says so itself at the write), and the claim still keeps a trial from being
    trained twice."""
    if not ticket:
        return None
    try:
        data = read_bytes(root, driver_path(ticket["sweep"]))
    except OSError:
        return None
    holder = check_record(data)[0] if data is not None else None
    if holder is None or holder.get("token") == ticket["token"]:
        return None
    return (f"not trained: this trial's driver no longer holds the lock of sweep {ticket['sweep']!r} "
            f"({where(root, driver_path(ticket['sweep']))}; pid {holder.get('pid')} on host {holder.get('host')} "
            f"holds it), the driver that does trains it")


def claim_for(root: str, sweep: str, config_hash: str, ticket: dict | None) -> TrialClaim:
    """A claim on the timings of the driver's lock (`ticket`, from `driver_lock.lock_ticket`), else the defaults."""
    ticket = ticket or {}
    return TrialClaim(root, sweep, config_hash, driver=ticket.get("token"),
                      stale_after_s=ticket.get("stale_after_s", STALE_AFTER_S), beat_s=ticket.get("beat_s", BEAT_S))


__all__ = ["ClaimBlocked", "ClaimLost", "TrialClaim", "claim_for", "claim_trial", "lock_refusal"]
