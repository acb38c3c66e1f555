"""One download per dataset and data root at a time, across the processes of a node.

Several Ray workers of one node start on a missing dataset together; without a
lock each downloads and extracts into the same folder, over each other. The
first takes the lock and fetches; the others wait, then find the files (the
torchvision loaders check what is on disk before downloading). `filelock`
(already a Ray dependency) locks a file beside the data, which also works for
a data root on a shared filesystem that supports locks.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from filelock import FileLock

# Long enough for a large archive on a slow link; a stuck holder then gives an error, not a hang.
DOWNLOAD_LOCK_TIMEOUT_S = 4 * 3600


@contextlib.contextmanager
def download_lock(root: Path, name: str, timeout: float = DOWNLOAD_LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold `<root>/.bench-download-<name>.lock` for the block (creates the root if needed)."""
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f".bench-download-{name}.lock"), timeout=timeout):
        yield


__all__ = ["DOWNLOAD_LOCK_TIMEOUT_S", "download_lock"]
