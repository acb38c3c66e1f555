"""Test-wide settings.

One thread per torch process: the suite's networks are small, CI has two cores,
and several torch processes (pytest itself, CLI subprocesses, Ray workers) run
at once in some tests; more threads would only fight over the cores.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
