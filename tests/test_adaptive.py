"""Adaptive ε-search on a synthetic problem with known boundaries (no training).

The stub "trains" a config by reading a known curve: for the λ axis the
compression ratio is CR = 10 * (λ / 1e-6) (λ = 1e-4 -> CR 1000), for the
compression axis CR = target; accuracy depends on CR only. Dense is 0.90, so
with the default curve ε = 5 fails above CR 1000 and ε = 10 above CR 10^4.
"""

from __future__ import annotations

import json
import math

import pytest

from suite.run.adaptive import AdaptivePlan
from suite.run.adaptive_results import budget_bound, progress, remaining_bound, run_serial, summary_lines
from suite.sweep.adaptive_spec import AdaptiveSettings, AdaptiveSpecError, parse_adaptive
from suite.config import TrialConfig

TOTAL = 10**6
DENSE_ACC = 0.90


def default_curve(cr: float) -> float:
    return DENSE_ACC if cr <= 100 else DENSE_ACC - 0.05 * math.log10(cr / 100)


def cr_of(cfg: TrialConfig) -> float:
    if cfg.method == "dense":
        return 1.0
    if cfg.method == "dwf":
        return 10.0 * cfg.lam / 1e-6
    return cfg.compressions[0]


def stub(curve=default_curve, seed_offset=lambda seed: 0.0, cr=cr_of):
    def train(cfg: TrialConfig) -> list[dict]:
        c = cr(cfg)
        acc = DENSE_ACC if cfg.method == "dense" else curve(c)
        return [{
            "method": cfg.method, "model": cfg.model, "dataset": cfg.dataset, "depth": cfg.depth, "lam": cfg.lam,
            "lr": cfg.lr, "epochs": cfg.epochs, "seed": cfg.seed, "point": "final", "point_id": 0,
            "target_compression": cfg.compressions[0] if cfg.compressions else None, "status": "ok",
            "test_acc": acc + seed_offset(cfg.seed), "compression_ratio": c, "sparsity": 1 - 1 / c,
            "total_params": TOTAL, "config_hash": cfg.config_hash,
            "config_json": json.dumps(cfg.to_dict(), sort_keys=True, default=list),
        }]
    return train


def grid(methods=("dwf",), seeds=(0,)) -> list[TrialConfig]:
    base = {"model": "lenet300", "dataset": "fmnist", "epochs": 1}
    out = []
    for seed in seeds:
        out.append(TrialConfig(method="dense", seed=seed, **base))
        for lam in (1e-6, 1e-1) if "dwf" in methods else ():
            out.append(TrialConfig(method="dwf", depth=3, lam=lam, seed=seed, **base))
        for c in (10.0, 1e5) if "synflow" in methods else ():
            out.append(TrialConfig(method="synflow", compressions=(c,), seed=seed, **base))
    return out


def cells(plan: AdaptivePlan) -> dict[str, dict]:
    return {p["cell"]: p for p in progress(plan)}


def settings(**kw) -> AdaptiveSettings:
    return AdaptiveSettings(**{"tolerance": 0.1, "budget": 20, "eps": (5, 10), "levels": (), **kw})


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
    assert lines[-1] == f"adaptive: {len(plan.used)} trial(s) used ({100 * len(plan.used) / 3:.0f}%) of the full grid's 3"


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


def test_dense_then_table1_then_table2_points_train_first():
    plan, train = AdaptivePlan(grid(), settings(eps=(5,), levels=(1e4,))), stub()
    dense, midpoint = plan.advance()  # level cells need no dense, so the first midpoint comes at once
    assert dense.method == "dense" and plan.priority(dense) == 0 and plan.priority(midpoint) == 2
    plan.observe(dense, train(dense))
    assert plan.advance() == [] and plan.priority(midpoint) == 1  # now the ε cell waits on it too
    plan.observe(midpoint, train(midpoint))
    ranks = sorted((plan.priority(c), c.lam) for c in plan.advance())
    # CR 3162 at the midpoint: ε = 5 (boundary CR 1000) bisects down, CR≥10^4 up
    assert [r for r, _ in ranks] == [1, 2] and ranks[0][1] < 3.16e-4 < ranks[1][1]


def test_eps_cells_without_dense_are_refused():
    trials = [c for c in grid() if c.method != "dense"]
    with pytest.raises(ValueError, match="dense"):
        AdaptivePlan(trials, settings())
    assert AdaptivePlan(trials, settings(eps=(), levels=(100.0,))).cells  # levels need no reference


def test_cells_of_one_group_share_their_first_point():
    plan = AdaptivePlan(grid(), settings(eps=(5, 10), budget=1))
    assert budget_bound(plan) == 2  # the bound counts the shared point once
    trained = run_serial(plan, stub())
    assert trained == 2  # dense + one midpoint serving both ε


class Interrupted(Exception):
    pass


def test_resume_trains_nothing_twice_and_reaches_the_same_cells():
    full = AdaptivePlan(grid(seeds=(0, 1)), settings(levels=(100.0,)))
    run_serial(full, stub())
    store: dict[str, list[dict]] = {}
    train = stub()

    def interrupted_after(n):
        def fn(cfg):
            if len(store) >= n:
                raise Interrupted
            store[cfg.config_hash] = train(cfg)
            return store[cfg.config_hash]
        return fn

    first = AdaptivePlan(grid(seeds=(0, 1)), settings(levels=(100.0,)))
    with pytest.raises(Interrupted):
        run_serial(first, interrupted_after(7))
    done_before = set(store)
    second = AdaptivePlan(grid(seeds=(0, 1)), settings(levels=(100.0,)))
    retrained = []

    def train_and_store(cfg):
        retrained.append(cfg.config_hash)
        store[cfg.config_hash] = train(cfg)
        return store[cfg.config_hash]

    lookup = lambda cfg: store.get(cfg.config_hash)  # noqa: E731
    run_serial(second, train_and_store, lookup=lookup)
    assert retrained and not set(retrained) & done_before
    assert cells(second) == cells(full)
    again = AdaptivePlan(grid(seeds=(0, 1)), settings(levels=(100.0,)))
    assert run_serial(again, lambda cfg: pytest.fail(f"trained {cfg} again"), lookup=lookup) == 0
    assert cells(again) == cells(full) and again.finished


@pytest.mark.parametrize("value, key", [
    ({"tolerance": 0}, "adaptive.tolerance"), ({"budget": 0}, "adaptive.budget"), ({"eps": [0]}, "adaptive.eps[0]"),
    ({"levels": [1]}, "adaptive.levels[0]"), ({"bogus": 1}, "adaptive.bogus"), ({"eps": [], "levels": []}, "adaptive"),
    ("yes", "adaptive"),
])
def test_bad_adaptive_keys_are_named(value, key):
    with pytest.raises(AdaptiveSpecError) as err:
        parse_adaptive(value)
    assert err.value.key == key and "allowed" in str(err.value)


def test_adaptive_key_defaults():
    s = parse_adaptive(True)
    assert s.eps == (5, 10) and s.levels[0] == 10 and s.levels[-1] == 1000 and s.budget >= 1
    assert parse_adaptive({"levels": [20, 10]}).levels == (10.0, 20.0)
    assert parse_adaptive(False) is None


def test_the_tune_searcher_hands_out_the_lowest_priority_first():
    from suite.run.ray.searchers import AdaptiveSearcher

    plan, train = AdaptivePlan(grid(), settings(eps=(5,), levels=(1e4,))), stub()
    for cfg in plan.advance():  # dense and the shared first midpoint
        plan.observe(cfg, train(cfg))
    eps_point, level_point = sorted(plan.advance(), key=plan.priority)
    searcher = AdaptiveSearcher(plan, lookup=None, results="unused", sweep="unused")
    searcher.queue = [level_point, eps_point]  # the level point was queued first
    assert searcher.suggest("t1")["config_hash"] == eps_point.config_hash
    assert searcher.suggest("t2")["config_hash"] == level_point.config_hash


def test_the_remaining_bound_only_shrinks_and_never_undercounts():
    """What the progress line shows as "[n/≤N]": trials finished plus remaining_bound. Driven
    two trials at a time (as two slots would), that sum starts at the whole search's budget
    bound, never grows, always covers what the search ends up training, and shrinks well below
    the static bound as cells resolve."""
    plan = AdaptivePlan(grid(methods=("dwf", "synflow"), seeds=(0, 1)), settings(levels=(100.0, 1000.0), budget=8))
    train, queue, finished, shown = stub(), [], 0, []
    while True:
        queue += plan.advance()
        if not queue:
            break
        shown.append(finished + remaining_bound(plan))
        for cfg in queue[:2]:
            plan.observe(cfg, train(cfg))
            finished += 1
        queue = queue[2:]
    assert plan.finished and remaining_bound(plan) == 0
    assert shown == sorted(shown, reverse=True) and shown[-1] >= finished == len(plan.used)
    assert shown[0] == budget_bound(plan) and shown[-1] < 0.6 * budget_bound(plan)


def test_the_progress_line_shows_an_adaptive_count_as_a_bound():
    import io

    from rich.console import Console

    from suite.run.progress import Phase

    out = io.StringIO()
    remaining = [5]
    with Phase("adaptive t", None, {}, Console(file=out, width=200), remaining=lambda: remaining[0]) as phase:
        phase.started("a")
        remaining[0] = 3  # the trial left the queue, and a cell resolved
        phase.finished("a", {"status": "ok", "test_acc": 0.8, "compression_ratio": 10.0, "train_s": 1.0}, "a")
    line = out.getvalue()
    assert line.startswith("✓ [1/≤4] a: acc 80.00% CR 10") and "left ~" in line
    grid = io.StringIO()
    with Phase("sweep t", 4, {}, Console(file=grid, width=200)) as phase:
        phase.started("a")
        phase.finished("a", {"status": "ok", "test_acc": 0.8, "train_s": 1.0}, "a")
    assert grid.getvalue().startswith("✓ [1/4] a") and "≤" not in grid.getvalue() and "~" not in grid.getvalue()
    with pytest.raises(ValueError, match="total"):
        Phase("both", 4, {}, None, remaining=lambda: 3)


def test_a_diverged_point_above_an_eps_cell_does_not_end_its_search():
    # λ above 2e-4 diverges (CR 1): the first midpoint, 3.16e-4, fails the ε = 5 cell with a CR below
    # any qualifying point's. The boundary (CR 1000 at λ 1e-4) lies below the divergence; a stop on
    # CR(failing) <= CR(cell) x 1.1 would end the search at the first qualifying point.
    plan = AdaptivePlan(grid(), settings(eps=(5,)))
    run_serial(plan, diverging_above(2e-4))
    cell = cells(plan)["dwf D=3 ε=5"]
    assert cell["status"] == "resolved" and cell["lower"] <= 1e-4 <= cell["upper"] <= 1.1e-4 * 1.1
    assert 0.9e-4 <= cell["cell_x"] <= 1e-4
