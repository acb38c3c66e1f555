"""Early stop of collapsed runs (suite.train) on the synthetic dataset: seconds, no Ray."""

import math

from suite.config import TrialConfig
from suite.train import run_trial


def test_collapsed_run_stops_after_the_epoch_that_emptied_it():
    # λ = 1 is weight decay 2/3 on every DWF factor: 64 steps of batch 32 leave nothing.
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="dwf", depth=3, lam=1.0, lr=0.3, epochs=4, seed=0,
                      batch_size=32)
    result = run_trial(cfg)
    (row,) = result.rows
    assert row["status"] == "collapsed" and row["nonzero_params"] == 0 and math.isinf(row["compression_ratio"])
    crs = [h["compression_ratio"] for h in result.history]
    assert len(crs) < cfg.epochs and math.isinf(crs[-1]) and not any(map(math.isinf, crs[:-1]))  # stopped right there
    assert 0 <= row["test_acc"] <= 0.5  # an empty network predicts one class


def test_a_healthy_run_trains_every_epoch():
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="dwf", depth=3, lam=1e-6, lr=0.3, epochs=2, seed=0)
    result = run_trial(cfg)
    assert result.rows[0]["status"] == "ok" and len(result.history) == 2
