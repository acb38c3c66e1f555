"""Intervals on table cells: the seed bootstrap, enumerated exactly, against hand-computed answers."""

import math

import numpy as np
import pandas as pd
import pytest

from hand_made_sweep import seeds
from suite.analysis import intervals
from suite.analysis.rendering import format_accuracy_table, format_compression_table
from suite.analysis.tables import accuracy_table, compression_table, threshold_rules


def test_exact_resamples_of_three_seeds():
    resamples = intervals.seed_resamples(3)
    assert len(resamples) == 10  # multisets of size 3 from 3 seeds
    assert math.isclose(sum(w for _, w in resamples), 1.0)
    weights = {tuple(c): w for c, w in resamples}
    assert math.isclose(weights[(1, 1, 1)], 6 / 27) and math.isclose(weights[(3, 0, 0)], 1 / 27)
    assert math.isclose(weights[(2, 1, 0)], 3 / 27)


def test_many_seeds_are_sampled_reproducibly():
    a, b = intervals.seed_resamples(12), intervals.seed_resamples(12)
    assert len(a) == intervals.MC_DRAWS and all((x == y).all() for (x, _), (y, _) in zip(a, b))


def test_weighted_quantile_is_the_inverse_cdf():
    values, weights = np.array([3.0, 1.0, 2.0]), np.array([0.5, 0.25, 0.25])
    assert intervals.weighted_quantile(values, weights, 0.25) == 1.0
    assert intervals.weighted_quantile(values, weights, 0.26) == 2.0
    assert intervals.weighted_quantile(values, weights, 0.975) == 3.0


def _section() -> pd.DataFrame:
    """Dense at 0.90 on every seed; SNIP at CR 100 qualifies at ε = 5 unless seed 2 is drawn twice or more;
    SNIP at CR 200 only when seed 0 is drawn twice or more."""
    rows = seeds("dense", [0.90, 0.90, 0.90], 100_000)
    rows += seeds("snip", [0.88, 0.88, 0.80], 1_000, target=100.0)
    rows += seeds("snip", [0.86, 0.80, 0.80], 500, target=200.0)
    return pd.DataFrame(rows)


def test_table1_interval_redoes_the_selection_on_each_resample():
    rows = _section()
    table = compression_table(rows, [5])
    snip = table.set_index("label").loc["SNIP"]
    assert snip["cr@5"] == 100  # CR 200's median accuracy is 0.80
    out = intervals.compression_intervals(table, rows, threshold_rules([5]), {("SNIP", "5"): 210.0})
    snip = out.set_index("label").loc["SNIP"]
    # P(seed 2 drawn >= 2 times) = 7/27: nothing qualifies. P(seed 0 drawn >= 2 times) = 7/27: CR 200.
    assert math.isclose(snip["p_empty@5"], 7 / 27)
    assert (snip["cr_lo@5"], snip["cr_hi@5"]) == (100, 200)
    assert math.isclose(snip["p25@5"], 7 / 27)  # 200 is within 25% of 210, 100 is not
    text = format_compression_table(out).set_index("Method").loc["SNIP", "ε = 5 pp"]
    assert text == "100 (99.00%) [100–200, ∅ 26%] p 0.26"


def test_table2_interval_is_the_bootstrap_of_the_mean():
    rows = _section()
    out = intervals.accuracy_intervals(accuracy_table(rows, [0.99]), rows)
    snip = out.set_index("label").loc["SNIP"]
    # The most accurate configuration at 99% is CR 100 (mean 0.8533); single-seed resamples bound it.
    assert (snip["lo@0.99"], snip["hi@0.99"]) == pytest.approx((0.80, 0.88))
    text = format_accuracy_table(out).set_index("Method").loc["SNIP", "99%"]
    assert text == "85.33 ± 4.62 [80.00, 88.00]"


def test_relative_eps_reads_a_drop_as_a_share_of_dense():
    rows = _section()
    points = compression_table(rows, [5]).set_index("label").loc["SNIP", "cr@5"]
    # Relative: 0.90 x 0.95 = 0.855; CR 100's median 0.88 qualifies, as in points (threshold 0.85).
    relative = compression_table(rows, [5], eps_mode="relative").set_index("label")
    assert points == relative.loc["SNIP", "cr@5"] == 100
    # ε = 2: 0.90 - 0.02 = 0.88 admits CR 100 (median 0.88); 0.90 x 0.98 = 0.882 does not.
    assert compression_table(rows, [2]).set_index("label").loc["SNIP", "cr@2"] == 100
    assert pd.isna(compression_table(rows, [2], eps_mode="relative").set_index("label").loc["SNIP", "cr@2"])
    with pytest.raises(ValueError, match="allowed: points, relative"):
        compression_table(rows, [5], eps_mode="percent")
