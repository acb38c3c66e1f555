"""experiments/move_trials.py: trials move (or are copied) between sweeps of a store whole, selected by
method, lr and stored config fields; nothing is written when any destination file exists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from suite.config import TrialConfig
from suite.results.store import TrialResult, done_hashes, write_trial

SCRIPT = Path(__file__).resolve().parent.parent / "experiments" / "move_trials.py"


def stored(root: Path, **fields) -> str:
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="dwf", depth=3, lam=1e-3, epochs=1, sweep="a",
                      **fields)
    values = cfg.to_dict()
    if "omega_max" not in fields:  # as stored before the field existed
        del values["omega_max"]
    row = {"sweep": "a", "method": "dwf", "model": "lenet300", "dataset": "synthetic", "depth": 3, "lam": 1e-3,
           "lr": cfg.lr, "seed": 0, "epochs": 1, "point": "final", "point_id": 0, "status": "ok", "test_acc": 0.5,
           "config_hash": cfg.config_hash, "config_json": json.dumps(values, default=list)}
    write_trial(root, "a", TrialResult(rows=[row], history=[{"config_hash": cfg.config_hash, "epoch": 1}]))
    return cfg.config_hash


def move(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(root), "a", "b", "--method", "dwf", "--lr", "0.15", *args],
                          capture_output=True, text=True, timeout=120)


def test_trials_are_selected_by_a_stored_field_and_moved_or_copied_whole(tmp_path):
    printed, factor = stored(tmp_path), stored(tmp_path, omega_max="factor")  # the first lacks the key
    done = move(tmp_path, "--where", "omega_max=product", "--copy")
    assert done.returncode == 0 and "copied 1 dwf trial(s)" in done.stdout, done.stderr
    assert done_hashes(tmp_path, "b") == {printed} and done_hashes(tmp_path, "a") == {printed, factor}
    assert (tmp_path / "b" / "history" / f"{printed}.parquet").exists()
    # The copy is in b already: a second run writes nothing, also not the trial that is not there yet.
    done = move(tmp_path)
    assert done.returncode != 0 and "already exist in b" in done.stderr
    assert done_hashes(tmp_path, "b") == {printed} and done_hashes(tmp_path, "a") == {printed, factor}
    done = move(tmp_path, "--where", "omega_max=factor")
    assert done.returncode == 0 and done_hashes(tmp_path, "b") == {printed, factor}
    assert done_hashes(tmp_path, "a") == {printed}
    assert "unknown config field 'omegamax'" in move(tmp_path, "--where", "omegamax=x").stderr
