"""Where the adaptive ε-search lands on the stub's known curves (tests/adaptive_stub.py).

Boundaries, levels, medians over seeds, non-monotone curves, ties, an exhausted budget, diverged points.
"""

from __future__ import annotations

import math

from adaptive_stub import DENSE_ACC, cells, default_curve, grid, settings, stub
from suite.run.search.bisect.plan import AdaptivePlan
from suite.run.search.driving import budget_bound, run_serial, summary_lines
from suite.config import TrialConfig


def test_bisection_converges_to_the_known_boundary_within_tolerance():
    plan = AdaptivePlan(grid(), settings())
    run_serial(plan, stub())
    assert plan.finished and len(plan.used) <= budget_bound(plan)
    for eps, boundary in ((5, 1e-4), (10, 1e-3)):
        cell = cells(plan)[f"dwf D=3 ε={eps}"]
        assert cell["status"] == "resolved"
        lower, upper = cell["lower"], cell["upper"]
        assert cell["cell_x"] == lower and lower <= boundary <= upper
        assert upper / lower <= 1.1 + 1e-9  # CR is proportional to λ here
        assert cell["points"] <= 10  # bisection over 5 decades, not a 20-point grid
    lines = summary_lines(plan)
    assert lines[0].startswith("dwf D=3 ε=5: λ [") and "resolved" in lines[0]
    assert len(plan.used) > 3 and lines[-1] == (f"adaptive: {len(plan.used)} trial(s) used, more than the full "
                                                "grid's 3 (the searches add values between its points)")
    plan.grid_trials = 100  # a finer grid: the share it saved
    assert summary_lines(plan)[-1] == \
        f"adaptive: {len(plan.used)} trial(s) used ({len(plan.used)}%) of the full grid's 100"


def test_compression_axis_and_levels_run_as_targets():
    plan = AdaptivePlan(grid(("synflow",)), settings(eps=(5,), levels=(100.0, 1000.0)))
    run_serial(plan, stub())
    cell = cells(plan)["synflow ε=5"]
    assert cell["status"] == "resolved" and cell["lower"] <= 1000 <= cell["upper"] <= 1.1 * cell["lower"]
    for level in (100, 1000):
        lv = cells(plan)[f"synflow CR≥{level}"]
        assert lv["points"] == 1 and lv["cell_x"] == level and lv["status"] == "resolved"


def test_level_search_on_the_lambda_axis_lands_just_above_the_level():
    plan = AdaptivePlan(grid(), settings(eps=(), levels=(100.0,)))
    run_serial(plan, stub())
    cell = cells(plan)["dwf D=3 CR≥100"]
    assert cell["status"] == "resolved"
    assert 1e-5 <= cell["cell_x"] <= 1.1e-5  # CR(λ) = 100 at λ = 1e-5


def test_median_over_seeds_ignores_one_bad_seed():
    # seed 2 is far worse everywhere: the mean would move the boundary, the median does not.
    offsets = {0: 0.004, 1: -0.004, 2: -0.5}
    plan = AdaptivePlan(grid(seeds=(0, 1, 2)), settings(eps=(5,)))
    trained = run_serial(plan, stub(seed_offset=offsets.get))
    cell = cells(plan)["dwf D=3 ε=5"]
    # median accuracy = curve - 0.004 +- dense's own offsets: boundary near CR 1000 (λ 1e-4)
    assert 0.7e-4 <= cell["lower"] <= 1e-4 <= cell["upper"] <= 1.2e-4
    assert cell["trials"] == 3 * cell["points"] and trained % 3 == 0


def test_non_monotone_keeps_the_sparsest_qualifying_point_seen():
    # A spike: CR in [3000, 3300] qualifies for ε = 5 although CR 1000..3000 does not.
    spike = lambda cr: 0.89 if 3000 <= cr <= 3300 else default_curve(cr)  # noqa: E731
    plan = AdaptivePlan(grid(), settings(eps=(5,)))
    run_serial(plan, stub(curve=spike))
    cell = cells(plan)["dwf D=3 ε=5"]
    # the first midpoint (λ 3.16e-4, CR 3160) lands in the spike; the search stays above it
    assert cell["cell_x"] >= 3.0e-4 and cell["upper"] <= 3.3e-4 * 1.1


def test_ties_in_compression_go_to_the_higher_accuracy_and_the_search_goes_on_above_them():
    # CR saturates at 2000 above λ = 2e-4; accuracy falls slowly with λ but always qualifies.
    cr = lambda cfg: 1.0 if cfg.method == "dense" else min(10.0 * cfg.lam / 1e-6, 2000.0)  # noqa: E731
    plan = AdaptivePlan(grid(), settings(eps=(5,), budget=8))
    train = stub(cr=cr, curve=lambda c: 0.0)
    run_serial(plan, lambda cfg: [{**r, "test_acc": DENSE_ACC if cfg.method == "dense"
                                   else 0.89 - 0.001 * math.log10(cfg.lam / 2e-4)} for r in train(cfg)])
    cell, path = cells(plan)["dwf D=3 ε=5"], plan.cells[0].path
    tied = [x for x in path if x >= 2e-4]
    assert len(tied) >= 3 and 0.1 in path  # went on up to the grid's end, which qualifies too
    assert cell["status"] == "bound" and cell["cell_x"] == min(tied)  # the most accurate of the tie


def test_budget_exhaustion_keeps_the_bracket_around_the_boundary():
    plan = AdaptivePlan(grid(), settings(eps=(5,), budget=3))
    run_serial(plan, stub())
    cell = cells(plan)["dwf D=3 ε=5"]
    assert cell["status"] == "budget" and cell["points"] == 3
    assert cell["lower"] <= 1e-4 <= cell["upper"]


def diverging_above(lam_max: float):
    """The stub, except that a λ above lam_max diverges as a real trial does: chance accuracy, CR 1."""
    train = stub()

    def run(cfg: TrialConfig) -> list[dict]:
        rows = train(cfg)
        if cfg.method == "dwf" and cfg.lam > lam_max:
            rows = [{**r, "status": "diverged", "test_acc": 0.1, "compression_ratio": 1.0, "sparsity": 0.0}
                    for r in rows]
        return rows
    return run


def test_a_diverged_point_caps_a_level_search_instead_of_pushing_it_up():
    # CR 100 lies at λ 1e-5, well below the divergence at 3e-4 (the first midpoint, 3.16e-4, diverges).
    plan = AdaptivePlan(grid(), settings(eps=(), levels=(100.0, 1e4)))
    run_serial(plan, diverging_above(3e-4))
    reachable, beyond = cells(plan)["dwf D=3 CR≥100"], cells(plan)["dwf D=3 CR≥10000"]
    assert reachable["status"] == "resolved" and 1e-5 <= reachable["cell_x"] <= 1.1e-5
    # CR 10^4 needs λ 1e-3: every point above 3e-4 diverges, so there is no cell, and the
    # search never went above the first diverged point (a CR of 1 there is not "too dense").
    assert beyond["status"] == "none" and beyond["cell_x"] is None
    assert max(x for c in plan.cells for x in c.path) == 3.16e-4


def test_a_diverged_point_below_a_reaching_one_is_just_short_of_the_level():
    # λ 7.5e-5 (the third point of the CR≥1000 search) diverges; 3.16e-4 already reaches CR 1000.
    train = diverging_above(1.0)
    band = lambda cfg: cfg.method == "dwf" and 7e-5 <= cfg.lam <= 8e-5  # noqa: E731
    plan = AdaptivePlan(grid(seeds=(0, 1, 2)), settings(eps=(), levels=(1000.0,)))
    run_serial(plan, lambda cfg: [{**r, "status": "diverged", "compression_ratio": 1.0, "sparsity": 0.0}
                                  for r in train(cfg)] if band(cfg) else train(cfg))
    cell = cells(plan)["dwf D=3 CR≥1000"]
    assert 7.5e-5 in plan.cells[0].path
    assert cell["status"] == "resolved" and 1e-4 <= cell["cell_x"] <= 1.1e-4


def test_a_diverged_point_above_an_eps_cell_does_not_end_its_search():
    # λ above 2e-4 diverges (CR 1): the first midpoint, 3.16e-4, fails the ε = 5 cell with a CR below
    # any qualifying point's. The boundary (CR 1000 at λ 1e-4) lies below the divergence; a stop on
    # CR(failing) <= CR(cell) x 1.1 would end the search at the first qualifying point.
    plan = AdaptivePlan(grid(), settings(eps=(5,)))
    run_serial(plan, diverging_above(2e-4))
    cell = cells(plan)["dwf D=3 ε=5"]
    assert cell["status"] == "resolved" and cell["lower"] <= 1e-4 <= cell["upper"] <= 1.1e-4 * 1.1
    assert 0.9e-4 <= cell["cell_x"] <= 1e-4
