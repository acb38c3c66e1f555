"""What a long-running driver needs from its process: SIGTERM, liveness of other pids, its temp folder.

* Slurm, systemd and `kill` stop a job with SIGTERM. Python's default is to die
  on the spot (Ray's driver even prints a C++ stack); `sigterm_as_interrupt`
  turns it into the KeyboardInterrupt that Ctrl-C raises, so the same code
  path writes the summary and shuts Ray down.
* Tune needs a scratch folder (`/tmp/bench-tune-<pid>-*`). A driver killed
  with SIGKILL cannot remove its own, so each new driver removes those of
  pids that no longer run on this host.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterator

TUNE_TMP_PREFIX = "bench-tune-"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (a pid of another user counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pid_started_at(pid: int) -> float | None:
    """When process `pid` of this host started (Unix time, from /proc), or None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, after the command in parentheses
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def interrupt_on_sigterm():
    """Make SIGTERM raise KeyboardInterrupt (main thread only); returns the handler it replaced.

    Call it again after `ray.init`, which installs its own handler (`sys.exit`).
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread (as Ctrl-C does)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    previous = interrupt_on_sigterm()
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def tune_tempdir() -> str:
    """A fresh scratch folder for Tune, named after this pid so a later driver can clean it up."""
    return tempfile.mkdtemp(prefix=f"{TUNE_TMP_PREFIX}{os.getpid()}-")


def clean_stale_tempdirs(base: str | None = None) -> list[str]:
    """Remove the Tune scratch folders of drivers that no longer run; returns what was removed."""
    removed = []
    for path in Path(base or tempfile.gettempdir()).glob(f"{TUNE_TMP_PREFIX}*-*"):
        pid = path.name[len(TUNE_TMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            continue
        try:
            if path.is_dir() and path.stat().st_uid == os.getuid():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(str(path))
        except OSError:
            continue
    return removed


__all__ = ["TUNE_TMP_PREFIX", "clean_stale_tempdirs", "interrupt_on_sigterm", "pid_alive", "pid_started_at",
           "sigterm_as_interrupt", "tune_tempdir"]
