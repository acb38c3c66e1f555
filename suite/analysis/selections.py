"""The rules that pick configurations: the sparsest one good enough (Table 1),
the most accurate one sparse enough (Table 2), and the Pareto frontier (figures).

Each takes aggregated configurations (`configurations.aggregate_configs`) of
one method label and section and returns the chosen rows. The tables pick their
cells with them, and the adaptive search (`suite.run.search.bisect.plan`) picks its cells
through the tables and uses the same tolerances, so all agree on every boundary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Accuracies come from counts over a test set of at most ~10^6 samples, so two
# accuracies closer than 1e-9 are the same number up to float round-off
# (e.g. 0.9 - 0.05 need not equal the stored 0.85). Accuracy thresholds are
# inclusive up to this tolerance.
ACC_TOL = 1e-9

# A pruning method asked for sparsity s keeps ceil or round of (1 - s) * total
# weights, so it may miss s by less than one parameter; a level counts as
# reached within one parameter (and never less than 1e-6), plus round-off.
SPARSITY_TOL_MIN = 1e-6

# A Table 2 cell may be filled by a configuration sparser than its level (nothing nearer reaches
# it, or the sparser one is more accurate). When that configuration keeps at most this share of
# the weights the level keeps (CR at least 1.11x the level's), the cell is no measurement at the
# level, and its display says at which compression ratio it was measured.
SPARSER_KEPT_SHARE = 0.9


def measured_sparser(level: float, sparsity: float) -> bool:
    """Whether a Table 2 cell at `level` comes from a configuration clearly sparser than the level
    (see SPARSER_KEPT_SHARE)."""
    return 1.0 - sparsity <= SPARSER_KEPT_SHARE * (1.0 - level) * (1 + 1e-9)  # inclusive up to round-off


def sparsest_qualifying(candidates: pd.DataFrame, threshold: float) -> pd.Series | None:
    """The configuration with the highest compression whose median test accuracy is
    at least `threshold` (inclusive up to ACC_TOL); ties go to the more accurate one.
    None when none qualifies."""
    ok = candidates[(candidates["test_acc_median"] >= threshold - ACC_TOL) & candidates["compression_ratio"].notna()]
    if ok.empty:
        return None
    return ok.sort_values(["compression_ratio", "test_acc_median"], ascending=False, kind="stable").iloc[0]


def best_at_level(candidates: pd.DataFrame, level: float) -> pd.Series | None:
    """The configuration with the best mean test accuracy whose median sparsity reaches
    `level` within one parameter (see SPARSITY_TOL_MIN); ties go to the one nearest the level
    (exact ties happen at chance accuracy, and the cell should then be the measurement at the
    level, not one far beyond it). None when none reaches it."""
    one_param = 1.0 / candidates["total_params"].astype(float)
    tol = np.maximum(SPARSITY_TOL_MIN, one_param.fillna(0.0)) + ACC_TOL
    ok = candidates[candidates["sparsity"] >= level - tol]
    if ok.empty:
        return None
    return ok.sort_values(["test_acc_mean", "sparsity"], ascending=[False, True], kind="stable").iloc[0]


def pareto_front(configs: pd.DataFrame, x: str = "compression_ratio", y: str = "test_acc_median") -> pd.DataFrame:
    """Configurations not dominated in both x and y (higher is better), sorted by x."""
    finite = configs[np.isfinite(configs[x].astype(float)) & configs[y].notna()]
    ordered = finite.sort_values([x, y], ascending=False, kind="stable")
    # Walking from the most compressed down, a point survives only if it is
    # more accurate than everything more compressed (equal x: the best y wins).
    best_so_far = ordered[y].cummax().shift(fill_value=-np.inf)
    return ordered[ordered[y] > best_so_far].sort_values(x, kind="stable")
