"""Trained dense weights shared between trials: `<results>/checkpoints/<config_hash>.pt`.

GMP trains the dense network once per seed and then prunes and retrains it
for each target (Han et al., 2015). Each GMP target is its own trial, so the
trained dense weights are kept here, keyed by the config hash of the dense
trial they come from: the `dense` trial of a sweep deposits its weights, and a
GMP trial that finds none trains the same dense configuration itself (same
seeded initialization and data order, so the same weights) and deposits them.

The folder sits beside the sweeps of a results root, not inside one, because a
dense trial is the same trial in whichever sweep it ran. A file lock per key
makes concurrent GMP trials of one seed on one machine wait for one dense run
instead of each training it; on a URI root (s3://...) there is no lock and
the worst case is a duplicated, identical dense run.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path
from typing import Iterator

import torch
from filelock import FileLock

from suite.results.check import Damage, first_line, quarantine
from suite.results.layout import CHECKPOINTS, checkpoint_outcome_path, checkpoint_path
from suite.results.store import DamagedRecord, read_bytes, read_record, where, write_bytes


class CheckpointCache:
    def __init__(self, root: str | Path):
        self.root = str(root)

    def _relpath(self, key: str) -> str:
        return checkpoint_path(key)

    def get(self, key: str) -> dict[str, torch.Tensor] | None:
        """The stored weights, or None: also when the file cannot be loaded. A damaged file is moved aside
        (never deleted), so the dense network is trained again once instead of every trial failing on it."""
        relpath = self._relpath(key)
        data = read_bytes(self.root, relpath)
        if data is None:
            return None
        try:
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged file raises whatever its bytes lead the unpickler to
            moved = quarantine(self.root, [Damage(relpath, f"cannot be loaded ({first_line(exc)})")])
            warnings.warn(f"damaged dense checkpoint, trained again: {moved[0].describe(self.root)}", stacklevel=2)
            return None

    def put(self, key: str, state: dict[str, torch.Tensor]) -> None:
        buffer = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in state.items()}, buffer)
        write_bytes(self.root, self._relpath(key), buffer.getvalue())

    def offer(self, key: str, state: dict[str, torch.Tensor] | None = None, status: str | None = None) -> bool:
        """`put` the weights (or `put_outcome` the status) as a cache does: a write that fails (a full disk, a
        read-only folder) is a warning, never an error, so the trial that trained them keeps its result."""
        try:
            self.put(key, state) if status is None else self.put_outcome(key, status)
        except OSError as exc:
            what = "dense checkpoint" if status is None else "dense-run record"
            relpath = checkpoint_path(key) if status is None else checkpoint_outcome_path(key)
            warnings.warn(f"{what} {where(self.root, relpath)} "
                          f"not written ({first_line(exc)}); the trial's result is kept, and a GMP trial of "
                          "this seed trains the dense network itself", stacklevel=2)
            return False
        return True

    def put_outcome(self, key: str, status: str) -> None:
        """Record that the dense run of `key` ended `status` (no network to share): the same config
        ends the same way, so the trials that start from it need not train it again to learn that."""
        write_bytes(self.root, checkpoint_outcome_path(key), json.dumps({"status": status}).encode())

    def outcome(self, key: str) -> str | None:
        """The recorded status of a dense run that ended without a network, else None. An unreadable
        record is moved aside like a damaged checkpoint, and the dense run is trained again."""
        try:
            record = read_record(self.root, checkpoint_outcome_path(key))
        except DamagedRecord as exc:
            moved = quarantine(self.root, [exc.damage])
            warnings.warn(f"damaged dense-run record, trained again: {moved[0].describe(self.root)}", stacklevel=2)
            return None
        return None if record is None else str(record.get("status"))

    def outcome_file(self, key: str) -> str:
        return where(self.root, checkpoint_outcome_path(key))

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        if "://" in self.root:
            yield
            return
        folder = Path(self.root) / CHECKPOINTS
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder / f"{key}.lock")):
            yield
