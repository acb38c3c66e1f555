"""The adaptive plan's bookkeeping on the stub (tests/adaptive_stub.py): trial order, resume, progress bounds.

Which trial trains first, cells refused or sharing a point, resume, the Tune searcher's order, and the
bound the progress line counts down.
"""

from __future__ import annotations

import pytest

from adaptive_stub import cells, grid, settings, stub
from suite.run.search.bisect.plan import AdaptivePlan
from suite.run.search.driving import budget_bound, cells_settled, remaining_bound, run_serial


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
    train, queue, finished, shown, settled = stub(), [], 0, [], []
    while True:
        queue += plan.advance()
        if not queue:
            break
        shown.append(finished + remaining_bound(plan))
        settled.append(cells_settled(plan))
        for cfg in queue[:2]:
            plan.observe(cfg, train(cfg))
            finished += 1
        queue = queue[2:]
    assert plan.finished and remaining_bound(plan) == 0
    assert shown == sorted(shown, reverse=True) and shown[-1] >= finished == len(plan.used)
    assert shown[0] == budget_bound(plan) and shown[-1] < 0.6 * budget_bound(plan)
    n = len(plan.cells)  # the line beside the bound: from none settled to all, never back
    assert settled[0] == f"0 of {n} cells settled" and cells_settled(plan) == f"{n} of {n} cells settled"
    counts = [int(text.split()[0]) for text in settled]
    assert counts == sorted(counts)


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
    assert line.startswith("✓ [1/≤4] a: acc 80.00% CR 10") and "left at most ~" in line
    detailed = io.StringIO()
    with Phase("adaptive t", None, {}, Console(file=detailed, width=200), remaining=lambda: 2,
               detail=lambda: "1 of 3 cells settled") as phase:
        phase.started("a")
        phase.finished("a", {"status": "ok", "test_acc": 0.8, "train_s": 1.0}, "a")
    assert "(running 0 · failed 0 · 1 of 3 cells settled · left at most ~" in detailed.getvalue()
    grid = io.StringIO()
    with Phase("sweep t", 4, {}, Console(file=grid, width=200)) as phase:
        phase.started("a")
        phase.finished("a", {"status": "ok", "test_acc": 0.8, "train_s": 1.0}, "a")
    assert grid.getvalue().startswith("✓ [1/4] a") and "≤" not in grid.getvalue() and "~" not in grid.getvalue()
    with pytest.raises(ValueError, match="total"):
        Phase("both", 4, {}, None, remaining=lambda: 3)
