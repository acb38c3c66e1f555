"""Sweeps that break: resume after the driver is killed, a failing trial recorded while the others finish.

These tests start real (local) Ray instances: they are marked slow but run in CI.
Every spec here uses the synthetic dataset, LeNet-300-100 and 1-2 epochs.
"""

import glob
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from suite.results.store import done_hashes, load_failures, load_table
from suite.run.driver import pin_data
from suite.sweep.expansion import expand
from suite.sweep.loading import load_spec
from bench_subprocess import BENCH, bench, write_spec

PLUGIN = '''
"""Test only: a method that raises inside run_trial."""
from suite.builtins import METHODS
from suite.methods.base import Method


def _prepare(cfg, model, generator, data=None):
    raise RuntimeError("boom: the test-only method explodes")


if "explode" not in METHODS:
    METHODS.register(Method(name="explode", description="test only: raises", prepare=_prepare))
'''


def rows_files(root: Path, sweep: str) -> list[Path]:
    return sorted((root / sweep / "rows").glob("*"))


@pytest.mark.slow
def test_resume_after_the_driver_is_killed(tmp_path):
    spec = write_spec(tmp_path, """\
        name: resume
        model: lenet300
        dataset: synthetic
        train: {epochs: 2}
        seeds: [0, 1]
        methods:
          dense: {}
          dwf: {depth: [2], lam: [1.0e-5, 1.0e-3], lr: {2: 0.15}}
          snip: {compression: [10]}
        """)
    root = tmp_path / "res"
    total = 2 * 4
    proc = subprocess.Popen([*BENCH, "sweep", str(spec), "--results", str(root)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while not glob.glob(str(root / "resume" / "rows" / "*.parquet")):
            assert proc.poll() is None, "the sweep ended before it was killed"
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its local Ray (same session)
        proc.wait()
    first = len(rows_files(root, "resume"))
    assert 1 <= first < total
    # A second run finishes the sweep: finished trials are not retrained.
    done = bench("sweep", str(spec), "--results", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    ran, already = map(int, re.search(r"(\d+) ran now .* (\d+) already in the store", done.stdout).groups())
    assert ran + already == total and already >= first  # nothing finished was retrained
    files = rows_files(root, "resume")
    assert len(files) == total and all(f.suffix == ".parquet" and not f.name.startswith(".") for f in files)
    expected = {c.config_hash for c in expand(pin_data(load_spec(spec), None, download=False))}
    assert {f.stem for f in files} == expected
    rows = load_table(root, "resume")
    assert len(rows) == total and rows.config_hash.is_unique
    for table in ("layers", "history"):
        assert {p.stem for p in (root / "resume" / table).glob("*.parquet")} == expected
    # Every file is a complete Parquet file (a temp file is never taken for a result).
    for f in files:
        assert pq.read_table(f).num_rows == 1
    assert not load_failures(root, "resume")


@pytest.mark.slow
def test_a_failing_trial_is_recorded_and_the_others_finish(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "bench_test_explode.py").write_text(PLUGIN)
    spec = write_spec(tmp_path, """\
        name: faulty
        model: lenet300
        dataset: synthetic
        plugins: [bench_test_explode]
        train: {epochs: 1}
        seeds: [0]
        methods:
          dense: {}
          explode: {}
          gmp: {compression: [10, 100], finetune_epochs: 1}
        """)
    root = tmp_path / "res"
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "plugins"), os.environ.get("PYTHONPATH", "")])}
    done = bench("sweep", str(spec), "--results", str(root), env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout and "boom: the test-only method explodes" in done.stdout
    (failure,) = load_failures(root, "faulty")
    assert failure["config"]["method"] == "explode"
    assert "RuntimeError: boom" in failure["error"] and "Traceback" in failure["error"]
    assert set(load_table(root, "faulty").method) == {"dense", "gmp"}
    assert failure["config_hash"] not in done_hashes(root, "faulty")
