"""A CPU run does not print torch's "No CUDA runtime is found, using CUDA_HOME=..." notice.

torch.utils.cpp_extension logs it when imported on a machine with a CUDA
toolkit (CUDA_HOME, or nvcc on PATH) but no CUDA device; Inductor's C++ build
imports it inside the first compile of DWF's fused step (suite/core/dwf/compile.py).
CUDA_HOME pointed at an existing folder and no visible GPU make every machine
such a machine, so the test means the same with or without a toolkit here.
"""

import os
import shutil
import subprocess
import sys

import pytest
from bench_subprocess import bench

NOTICE = "No CUDA runtime is found"


@pytest.fixture
def no_gpu_but_a_cuda_home(tmp_path):
    return {"CUDA_HOME": str(tmp_path), "CUDA_VISIBLE_DEVICES": "", "BENCH_DEVICE": "cpu"}


def test_the_notice_would_show_in_this_environment(no_gpu_but_a_cuda_home):
    # The control: torch itself prints it here, so its absence below is the filter's doing.
    done = subprocess.run([sys.executable, "-c", "import torch.utils.cpp_extension"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **no_gpu_but_a_cuda_home})
    assert done.returncode == 0, done.stderr
    assert NOTICE in done.stdout + done.stderr


@pytest.mark.skipif(not any(shutil.which(cc) for cc in ("c++", "g++", "clang++")),
                    reason="no C++ compiler: the compiled DWF step (the path that imports cpp_extension) cannot run")
def test_a_compiled_dwf_trial_on_cpu_prints_no_cuda_notice(tmp_path, no_gpu_but_a_cuda_home):
    done = bench("run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dwf", "--depth", "2",
                 "--lam", "1e-4", "--epochs", "1", "--results", str(tmp_path / "results"),
                 env={**no_gpu_but_a_cuda_home, "BENCH_COMPILE": "1"}, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "wrote 1 row(s)" in done.stdout
    assert NOTICE not in done.stdout + done.stderr, done.stderr
