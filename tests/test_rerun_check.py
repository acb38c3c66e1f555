"""experiments/rerun_check.py: a stored trial re-run from its config, compared point by point, and
with --complete replacing the stored trial only when every stored point came back exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from suite.config import TrialConfig
from suite.results.store import write_trial
from suite.train import run_trial

SCRIPT = Path(__file__).resolve().parent.parent / "experiments" / "rerun_check.py"


def _check(sweep_dir: Path, config_hash: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(sweep_dir), config_hash, *extra],
                          capture_output=True, text=True, timeout=300)


def test_complete_fills_a_truncated_trial_only_when_it_reproduces_exactly(tmp_path):
    # An L1 trial with a ladder of three targets, stored as older code did: cut after its second point.
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="l1", lam=1e-4, lr=0.1, epochs=1,
                      compressions=(10.0, 100.0, 1000.0), sweep="s")
    full = run_trial(cfg)
    assert len(full.rows) == 4  # inherent sparsity and three targets
    write_trial(tmp_path, "s", full)
    rows_file = tmp_path / "s" / "rows" / f"{cfg.config_hash}.parquet"
    stored = pq.read_table(rows_file)
    pq.write_table(stored.slice(0, 2), rows_file)

    tampered = stored.slice(0, 2).to_pylist()
    tampered[1]["test_acc"] += 0.001  # one test sample in 1000 away: not the same number
    pq.write_table(pa.Table.from_pylist(tampered, schema=stored.schema), rows_file)
    refused = _check(tmp_path / "s", cfg.config_hash, "--complete")
    assert refused.returncode == 1 and "not replaced" in refused.stdout
    assert pq.read_table(rows_file).num_rows == 2  # the store is left as it was

    pq.write_table(stored.slice(0, 2), rows_file)
    done = _check(tmp_path / "s", cfg.config_hash, "--complete")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "largest difference: 0.00 points" in done.stdout and "the trial now has 4" in done.stdout
    assert pq.read_table(rows_file).column("test_acc").to_pylist() == [r["test_acc"] for r in full.rows]
