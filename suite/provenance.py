"""What produced a result row besides its config and data: code, versions, threads, host.

Every row carries these columns (`suite.results.schema`), so a number can be traced to the code
(`bench_version`, `git_commit`, with "+dirty" when tracked files had uncommitted changes), the
libraries (`torch_version`, `python_version`), and the conditions that change floating-point
results on a CPU (`threads`, `hostname`). Rows written before these columns existed read them as
null and are labelled "not recorded" in reports.
"""

from __future__ import annotations

import functools
import platform
import socket
import subprocess
from importlib import metadata

import torch

from suite.paths import PROJECT_DIR

PROVENANCE_COLUMNS = ("data_fingerprint", "data_sources", "bench_version", "git_commit", "torch_version",
                      "python_version", "threads", "hostname")


@functools.cache
def bench_version() -> str | None:
    try:
        return metadata.version("bench")
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def git_commit() -> str | None:
    """The checkout's commit, "+dirty" when tracked files differ from it; None outside a git checkout."""
    if not (PROJECT_DIR / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(PROJECT_DIR), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(PROJECT_DIR), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def environment() -> dict:
    """The provenance columns that describe this process (the data's are the trial's to add)."""
    return {
        "bench_version": bench_version(),
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "threads": torch.get_num_threads(),
        "hostname": socket.gethostname(),
    }


__all__ = ["PROVENANCE_COLUMNS", "bench_version", "environment", "git_commit"]
