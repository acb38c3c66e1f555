"""benchmarks/gpu_check.py: on a machine without CUDA it refuses with a clear message; its pieces (tests, a
smoke sweep, the speed benchmark) run on the CPU with `--device cpu --quick`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
CHECK = [sys.executable, str(REPO / "benchmarks" / "gpu_check.py")]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the refusal cannot be seen here")
def test_without_cuda_it_says_so_and_exits_non_zero(tmp_path):
    done = subprocess.run([*CHECK, str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no CUDA GPU here" in done.stderr and "--device cpu --quick" in done.stderr
    assert not (tmp_path / "out").exists()  # nothing started


@pytest.mark.slow
def test_its_pieces_run_on_the_cpu(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([*CHECK, str(out), "--device", "cpu", "--quick"], capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr + "".join(p.read_text() for p in out.glob("*.txt"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tests"]["ok"] and summary["speed"]["ok"]
    sweep = summary["sweeps"]["synthetic"]
    assert sweep["ok"] and sweep["trials"] == 6 and sweep["trials_per_hour_per_gpu"] > 0
    assert {"batch 64 dwf D=2 eager", "batch 64 dwf D=4 eager"} <= set(summary["speed"]["dwf_over_dense"])
    assert "trials per hour on this machine (CPU only" in done.stdout and "DWF-over-dense" in done.stdout
    for log in ("tests.txt", "sweep_synthetic.txt", "speed.txt"):
        assert (out / log).is_file()
