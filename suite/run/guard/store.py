"""What a sweep driver does to its store before and around the work (no Ray here).

`guarded_store(root, sweep, console)`:

1. removes Tune scratch folders of drivers that died (`/tmp/bench-tune-<pid>-*`);
2. probes that the root is writable (StoreWriteError otherwise), before any training;
3. takes the sweep's driver lock (StoreBusy when another driver runs it);
4. moves damaged files aside -- rows, layers and history files of the sweep and
   of its lr-search trials, failure records and lr-search records that do not
   read -- and reports each: their trials are trained again, and a damaged
   lr-search record is searched again (its trials are in the store, so that
   costs no training);
5. yields a fresh scratch folder, with SIGTERM raising KeyboardInterrupt, and
   removes the folder at the end.
"""

from __future__ import annotations

import contextlib
import shutil
from typing import Any, Iterator

from rich.markup import escape

from suite.run.guard.driver_lock import DriverLock, LockLost
from suite.run.guard.process import clean_stale_tempdirs, sigterm_as_interrupt, tune_tempdir
from suite.results.store import Damage, load_failures_checked, quarantine_damaged
from suite.results.check import check_record, new_stamp, quarantine, read_checked
from suite.results.files import list_names, probe_writable
from suite.results.layout import LR_SEARCH, kind_of, lr_search_sweep



def damaged_records(root: str, sweep: str) -> list[Damage]:
    """lr-search records and failure records of the sweep that do not read as JSON objects."""
    damaged = []
    folder = lr_search_sweep(sweep)
    for name in list_names(root, folder, ".json"):
        data, problem = read_checked(root, f"{folder}/{name}")
        if problem is None:
            problem = "no readable file there (a dangling link?)" if data is None else check_record(data, LR_SEARCH)[1]
        if problem is not None:
            damaged.append(Damage(f"{folder}/{name}", problem))
    for sub in (sweep, folder):
        damaged += load_failures_checked(root, sub)[1]
    return damaged


def consequence(damage: Damage) -> str:
    """What happens to what a damaged file recorded."""
    kind = kind_of(damage.relpath)
    if kind == "rows":
        return "its trial will be trained again"
    if kind == LR_SEARCH:
        return "the lr search will be redone from its stored trials"
    if kind == "failed":
        return "its trial will be tried again"
    if kind == "folder":
        return "the folder will be made again where it stood"
    return "the trial's figures lack this side table until it is trained again"


def set_aside(root: str, sweep: str) -> list[Damage]:
    """Move every damaged file of the sweep aside (never deleted); returns them."""
    stamp = new_stamp()  # one folder per run of the driver
    moved = quarantine_damaged(root, sweep, stamp) + quarantine_damaged(root, f"{sweep}/{LR_SEARCH}", stamp)
    return moved + quarantine(root, damaged_records(root, sweep), stamp)


@contextlib.contextmanager
def guarded_store(root: str, sweep: str, console: Any | None = None) -> Iterator[tuple[str, list[Damage]]]:
    """(scratch folder, damaged files moved aside) while this driver holds the sweep's store."""
    clean_stale_tempdirs()
    probe_writable(root)
    with DriverLock(root, sweep) as lock, lost_as_error(lock, confirm_at_end=True):
        if lock.note and console is not None:
            console.print(f"[yellow]note[/]: {escape(lock.note)}", highlight=False, soft_wrap=True)
        damaged = set_aside(root, sweep)
        if console is not None:
            for d in damaged:
                console.print(f"[yellow]damaged[/]: {escape(d.describe(root))}; {consequence(d)}",
                              highlight=False, soft_wrap=True)
        storage = tune_tempdir()
        try:
            with sigterm_as_interrupt():
                yield storage, damaged
        finally:
            shutil.rmtree(storage, ignore_errors=True)


@contextlib.contextmanager
def lost_as_error(lock: DriverLock, confirm_at_end: bool = False) -> Iterator[None]:
    """The KeyboardInterrupt a lock that was taken over raises in the main thread, as LockLost (its reason);
    with `confirm_at_end`, a run that ends normally checks too that the lock is still its own."""
    try:
        yield
    except KeyboardInterrupt:
        if lock.lost:
            raise LockLost(lock.lost) from None
        raise
    if confirm_at_end:
        lock.confirm()


__all__ = ["consequence", "damaged_records", "guarded_store", "lost_as_error", "set_aside"]
