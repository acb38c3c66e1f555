"""Test-wide settings.

One thread per torch process: the suite's networks are small, CI has two cores,
and several torch processes (pytest itself, CLI subprocesses, Ray workers) run
at once in some tests; more threads would only fight over the cores.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
# The eager DWF step: compiling the fused step costs seconds per network shape,
# which the suite's many tiny trials would never pay back. tests/test_dwf_step.py
# sets it per test and checks the compiled step against the eager one.
os.environ.setdefault("BENCH_COMPILE", "0")

import torch  # noqa: E402

torch.set_num_threads(1)
