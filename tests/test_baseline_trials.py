"""Whole trials (run_trial) of the comparison methods: the rows each kind of method writes."""

from __future__ import annotations

import pytest

from comparison_methods import POSTHOC_LADDER, PRUNE_AT_INIT, cfg_for
from suite.methods.masks import DEFAULT_LADDER, keep_count
from suite.train import run_trial


def _rows(cfg):
    return run_trial(cfg).rows


@pytest.mark.parametrize("method", PRUNE_AT_INIT)
def test_run_trial_prune_at_init(method):
    rows = _rows(cfg_for(method, compressions=(20.0,), seed=1))
    assert [(r["point"], r["target_compression"]) for r in rows] == [("final", 20.0)]
    row = rows[0]
    assert row["status"] == "ok" and row["method"] == method
    keep = keep_count(row["total_params"], 20.0)
    # Masks held through training (kept zero-init biases of random pruning may stay zero).
    assert row["nonzero_params"] <= keep and row["nonzero_params"] >= keep - 410
    if method != "random":
        assert row["nonzero_params"] == keep


def test_run_trial_gmp_oneshot_many_targets_and_gmp_retrained():
    rows = _rows(cfg_for("gmp_oneshot", compressions=(100.0, 10.0)))
    assert [(r["point"], r["target_compression"]) for r in rows] == [("posthoc", 10.0), ("posthoc", 100.0)]
    for row in rows:
        assert row["nonzero_params"] == keep_count(row["total_params"], row["target_compression"])
    tuned = _rows(cfg_for("gmp", compressions=(50.0,), finetune_epochs=1))
    assert [(r["point"], r["target_compression"]) for r in tuned] == [("final", 50.0)]
    assert tuned[0]["nonzero_params"] == keep_count(tuned[0]["total_params"], 50.0)  # mask held while retraining


@pytest.mark.parametrize("method", POSTHOC_LADDER)
def test_run_trial_inherent_plus_ladder(method):
    # Two epochs at lr 0.15: enough for the synthetic data to give a ladder of several points.
    rows = _rows(cfg_for(method, lam=1e-4, epochs=2, lr=0.15))
    assert rows[0]["point"] == "final" and rows[0]["target_compression"] is None
    targets = [r["target_compression"] for r in rows[1:]]
    assert rows[1:] and all(r["point"] == "posthoc" for r in rows[1:])
    assert targets == sorted(targets) and set(targets) <= set(DEFAULT_LADDER)
    assert all(t > rows[0]["compression_ratio"] for t in targets)
    assert targets == [t for t in DEFAULT_LADDER if t > rows[0]["compression_ratio"]]  # every rung, none skipped
    given = _rows(cfg_for(method, lam=1e-4, compressions=(30.0, 3.0)))
    given_targets = [r["target_compression"] for r in given[1:]]
    inherent = given[0]["compression_ratio"]
    assert given_targets and given_targets == [t for t in (3.0, 30.0) if t > inherent][: len(given_targets)]
