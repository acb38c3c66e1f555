"""A report's files written to a staging folder beside its output folder, then moved into place.

An interrupted report (Ctrl-C, a full disk, a plotting error) leaves the output
folder as it was: nothing new lies under the old index.md. The finished files
are then renamed into place one by one (fast, same filesystem), index.md last,
so the index never names a file that is not there yet. Files of the output
folder that this report does not write are left alone (the folder may be one a
person keeps other things in). The staging folder an interrupted report left
behind is removed by the next report to the same folder.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

INDEX = "index.md"


class ReportOutError(OSError):
    """The report's output folder cannot be used; the message names it and what is allowed."""


def check_out(out: Path) -> None:
    """ReportOutError unless `out` is (or can be created as) a writable folder."""
    if out.exists() and not out.is_dir():
        raise ReportOutError(f"--out {out}: a file is there; allowed: a folder (new or existing)")
    parent = next((p for p in [out, *out.parents] if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ReportOutError(f"--out {out}: {parent or out} is not a folder this user can write in; "
                             "allowed: a folder this user can create or write")


def staging_folder(out: Path) -> Path:
    """A fresh hidden folder beside `out` (same filesystem, so the final moves are renames)."""
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for left in out.parent.glob(f".{out.name}.staging-*"):  # of an interrupted report
        shutil.rmtree(left, ignore_errors=True)
    folder = out.parent / f".{out.name}.staging-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    return folder


def publish(staged: Path, out: Path, written: list[Path], stale: tuple[str, ...] = ()) -> list[Path]:
    """Move the files `written` under `staged` into `out` (index.md last), remove `stale` names from `out`
    and the staging folder; returns the files' paths in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    order = sorted(written, key=lambda p: p.name == INDEX)
    for path in order:
        os.replace(path, out / path.relative_to(staged))
    for name in stale:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(staged, ignore_errors=True)
    return [out / p.relative_to(staged) for p in written]


__all__ = ["ReportOutError", "check_out", "publish", "staging_folder"]
