"""Where the datasets live on disk, and the error when one is not there.

`resolve_data_root`: an explicit folder, else `$BENCH_DATA`, else
`~/.cache/bench/data`. Missing data raises `DataError` saying where we looked
and how to point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "BENCH_DATA"
DEFAULT_DATA_ROOT = Path("~/.cache/bench/data")


class DataError(RuntimeError):
    """A dataset could not be found or loaded; the message says where we looked."""


def resolve_data_root(root: str | Path | None = None) -> Path:
    """The data directory: `root` if given, else $BENCH_DATA, else ~/.cache/bench/data."""
    if root is None or str(root) == "":
        root = os.environ.get(DATA_ENV) or DEFAULT_DATA_ROOT
    return Path(root).expanduser().resolve()


def missing_message(name: str, root: Path, where: Path, reason: str) -> str:
    """The text of a DataError for dataset `name` not found under `root`."""
    return (
        f"dataset {name!r} not found in {root} (looked for its files under {where}); {reason}. "
        f"Put the files there, or point elsewhere with `--data DIR` or the {DATA_ENV} environment variable."
    )
