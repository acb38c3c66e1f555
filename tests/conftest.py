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

import hand_made_sweep  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


# The synthetic dataset the comparison methods' tests (tests/comparison_methods.py) train on.
@pytest.fixture(scope="module")
def data():
    from suite.core.data.registry import load_dataset

    return load_dataset("synthetic")


# The hand-made sweep of hand_made_sweep.py (known answers), shared by the analysis
# tests (test_configurations, test_compression_table, test_accuracy_table, test_figures,
# test_write_report).
@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return hand_made_sweep.result_rows()


@pytest.fixture(scope="module")
def layers(rows) -> pd.DataFrame:
    return hand_made_sweep.layer_rows(rows)


@pytest.fixture(scope="module")
def history(rows) -> pd.DataFrame:
    return hand_made_sweep.history_rows(rows)
