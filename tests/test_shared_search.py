"""The shared ε-search (suite.run.search.shared) on cheap synthetic curves with known boundaries: no training."""

from __future__ import annotations

import math
import random

import pytest

from suite.run.search.shared import GroupState, Result, Rules, SharedSearch, run_serial
from suite.run.search.shared.fit import Curve, isotonic, place_in_cr, safeguarded, secant

SEEDS = (0, 1, 2)
LAM0 = 3e-4


def true_cr(lam: float) -> float:
    """DWF-like: every weight kept up to about LAM0, then CR ~ λ^3."""
    return 1.0 + (lam / LAM0) ** 3


def true_acc(cr: float) -> float:
    """Accuracy falls slowly with log CR, then collapses beyond CR ~ 3000."""
    return 0.90 - 0.012 * math.log(cr) - 0.1 * max(0.0, math.log(cr / 3000.0)) ** 2


class Problem:
    """Per seed: the curves plus a seed bias and, with jitter, noise fixed per (seed, λ) by `rep`."""

    def __init__(self, jitter: float = 0.0, rep: int = 0, bias: tuple = (0.0, 0.002, -0.002),
                 cr_bias: tuple = (0.1, 0.0, -0.05), flat: tuple | None = None):
        self.jitter, self.rep, self.bias, self.cr_bias, self.flat = jitter, rep, bias, cr_bias, flat
        self.calls: list = []

    def noise(self, seed: int, x: float) -> float:
        if not self.jitter:
            return 0.0
        return random.Random(f"{self.rep}/{seed}/{x!r}").gauss(0.0, self.jitter)

    def answer(self, seed: int, lam: float) -> Result:
        cr = true_cr(lam)
        if self.flat and self.flat[0] <= lam <= self.flat[1]:
            cr = true_cr(self.flat[0])  # CR does not move over this stretch
        acc = true_acc(cr) + self.bias[seed] + self.noise(seed, lam)
        return Result(acc, cr * math.exp(self.cr_bias[seed]))

    def train(self, req) -> Result:
        self.calls.append(req)
        if req.group == "dense":
            return Result(0.90 + self.bias[req.seed], 1.0)
        return self.answer(req.seed, req.x)


def make(eps=(5.0, 10.0), levels=(10.0, 100.0, 1000.0), rules=Rules()) -> SharedSearch:
    group = GroupState("dwf D=3", "lam", 1e-6, 1e-1, SEEDS, params=266200)
    return SharedSearch([group], SEEDS, eps, levels, rules)


def run(problem: Problem, **kw) -> SharedSearch:
    search = make(**kw)
    run_serial(search, problem.train)
    assert search.finished
    return search


def boundary_cr(eps: float) -> float:
    """The CR where the median curve (bias 0 seed, no jitter) crosses dense - ε."""
    lo, hi = 1.0, 1e6
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if true_acc(mid) >= 0.90 - eps / 100 else (lo, mid)
    return lo


# ---------------------------------------------------------------------------- fits and the safeguarded step

def test_isotonic_pools_violators():
    assert isotonic([1, 3, 2, 4], [1, 1, 1, 1]) == [1, 2.5, 2.5, 4]
    assert isotonic([4, 2, 3, 1], [1, 1, 1, 1], increasing=False) == [4, 2.5, 2.5, 1]


def test_secant_interpolates_where_the_ends_bracket_a_sign_change():
    assert secant(0.0, 1.0, 0.3, -0.1) == pytest.approx(0.75)
    u, how = safeguarded(secant(0.0, 1.0, 0.3, -0.1), 0.0, 1.0, stagnating=False)
    assert (u, how) == (pytest.approx(0.75), "interpolated")


@pytest.mark.parametrize("fa, fb", [(0.2, 0.2), (0.2, 0.1), (-0.1, 0.3), (None, -0.1), (0.2, math.nan)])
def test_flat_or_non_monotone_or_unknown_falls_back_to_bisection(fa, fb):
    """Flat (no change), no sign change (non-monotone stretch), an unknown end: the midpoint."""
    assert safeguarded(secant(2.0, 4.0, fa, fb), 2.0, 4.0, stagnating=False) == (3.0, "bisection")


def test_steps_at_the_edge_or_creeping_fall_back_to_bisection():
    assert safeguarded(secant(0.0, 1.0, 0.001, -1.0), 0.0, 1.0, stagnating=False) == (0.5, "bisection")
    assert safeguarded(0.4, 0.0, 1.0, stagnating=True) == (0.5, "bisection")


def test_placement_needs_a_moving_cr_curve():
    flat = Curve([0.0, 1.0], [2.0, 2.0], [1, 1], increasing=True)
    assert place_in_cr(flat, 2.0, 0.0, 1.0, 2.0, 2.0, math.log(1.1)) is None
    rising = Curve([0.0, 1.0], [0.0, 3.0], [1, 1], increasing=True)
    u = place_in_cr(rising, 1.5, 0.0, 1.0, 0.0, 3.0, math.log(1.1))
    assert u == pytest.approx(0.5)


def test_a_flat_cr_stretch_is_bisected_and_the_cell_still_found():
    """CR constant over [3e-4, 1e-3] (nothing to invert there): the cells still end within tolerance."""
    search = run(Problem(flat=(LAM0, 1e-3)), levels=())
    cells = {c.value: c for c in search.cells}
    assert any("bisection" in c.how for c in cells.values())
    for eps, cell in cells.items():
        assert cell.status in ("resolved", "axis")
        assert abs(math.log(cell.result / boundary_cr(eps))) <= math.log(1.1) + 0.05


# ---------------------------------------------------------------------------- sharing

def test_cells_share_one_model_and_its_points():
    """The first point is the group's (one midpoint for all cells), and together the cells need fewer
    trials than each cell searching alone."""
    together = run(Problem())
    alone = 0
    for eps in (5.0, 10.0):
        alone += len(run(Problem(), eps=(eps,), levels=()).used)
    for level in (10.0, 100.0, 1000.0):
        alone += len(run(Problem(), eps=(), levels=(level,)).used)
    assert len(together.used) < alone - 3 * 4  # dense run once, not five times, and more shared besides
    firsts = {c.path[0] for c in together.cells if c.kind == "level"}
    assert len(firsts) == 1


def test_cells_land_within_tolerance_of_known_boundaries():
    search = run(Problem())
    for cell in search.cells:
        if cell.kind == "eps":
            assert abs(math.log(cell.result / boundary_cr(cell.value))) <= math.log(1.1) + 0.05, cell.title
        else:
            # seed biases 0, +0.002, -0.002: the mean is the unbiased curve at the level
            assert cell.result == pytest.approx(true_acc(cell.value), abs=0.005), cell.title


# ---------------------------------------------------------------------------- racing

def test_a_cells_configuration_always_has_every_seed():
    search = run(Problem(jitter=0.003))
    g = search.groups["dwf D=3"]
    for cell in search.cells:
        ends = [cell.cell_x] if cell.status != "estimated" else list(cell.bracket)
        for x in ends:
            if x is not None:
                assert g.raw(x).full, f"{cell.title}: {x} has {g.raw(x).n} seed(s)"
        if cell.status == "estimated":
            assert cell.cell_x is None and cell.interval is not None


def test_a_point_far_from_every_threshold_and_level_keeps_one_seed():
    """Far: accuracy more than three floor margins from both thresholds, CR more than max_bracket from the
    level (no estimate can rest on it)."""
    search = run(Problem(), levels=(1000.0,))
    g = search.groups["dwf D=3"]
    thresholds = [search.threshold(e) for e in (5.0, 10.0)]
    far = [p for p in g.points()
           if all(abs(p.acc - t) > 3 * search.rules.noise_floor for t in thresholds)
           and abs(math.log(p.cr / 1000.0)) > math.log(search.rules.max_bracket)]
    assert far, "the problem should make the search visit far points"
    assert all(p.n == 1 for p in far), [(p.x, p.n) for p in far]
    assert any(p.n == 1 for p in g.points()) and any(p.full for p in g.points())


def wrong_cells(rules: Rules, reps: int) -> int:
    """ε cells where a one-seed point, completed, would have been a sparser qualifying cell beyond the
    tolerance: the error racing can make."""
    wrong = 0
    for rep in range(reps):
        problem = Problem(jitter=0.006, rep=rep)
        search = run(problem, levels=(), rules=rules)
        g = search.groups["dwf D=3"]
        for cell in search.cells:
            t = search.threshold(cell.value)
            completed = [sorted(problem.answer(s, x).acc for s in SEEDS)[1] for x in g.results]
            crs = [sorted(problem.answer(s, x).cr for s in SEEDS)[1] for x in g.results]
            best = max((c for c, a in zip(crs, completed) if a >= t), default=None)
            if best is not None and (cell.result is None or best > cell.result * (1 + rules.tolerance)):
                wrong += 1
    return wrong


def test_racing_picks_a_wrong_cell_no_more_often_than_its_rule_allows():
    """Noise 0.6 points per seed and point. The margin (3 x how far one-seed guesses were off, at least
    0.5 points) misjudges a one-seed point with probability about 0.3% under normal noise; with a handful
    of one-seed points per cell, at most a few percent of cells. A bare margin (0.1 x, no floor) must do
    worse, or this test could not fail."""
    reps = 20
    racing = wrong_cells(Rules(), reps)
    assert racing <= max(1, 0.05 * 2 * reps)
    careless = wrong_cells(Rules(noise_k=0.1, noise_floor=0.0), reps)
    assert careless > racing


# ---------------------------------------------------------------------------- resume

def test_resume_retraces_every_decision_without_training():
    problem = Problem(jitter=0.003)
    first = run(problem)
    answers = {req: problem.train(req) for req in first.used}
    again = make()

    def refuse(req):
        raise AssertionError(f"trained {req} on resume")

    assert run_serial(again, refuse, lookup=answers.get) == 0
    assert again.used == first.used and again.reused == first.used
    for a, b in zip(first.cells, again.cells):
        assert (a.status, a.path, a.result, a.cell_x, a.bracket) == (b.status, b.path, b.result, b.cell_x, b.bracket)


def test_a_search_without_eps_cells_still_runs_its_dense_model_and_resumes_without_training():
    """A Table-2-only search (levels, no ε cell; the MNIST reference's) still trains the sweep's dense seeds:
    dense is a reported row and its std is part of every cell's racing margin. A search built without dense
    (`dense=False`: the sweep has none) requests none."""
    problem = Problem(jitter=0.003)
    first = run(problem, eps=())
    assert {r.seed for r in first.used if r.group == "dense"} == set(SEEDS)
    assert sorted(first.dense) == list(SEEDS) and first.dense_std() is not None
    answers = {req: problem.train(req) for req in first.used}

    def refuse(req):
        raise AssertionError(f"trained {req} on resume")

    again = make(eps=())
    assert run_serial(again, refuse, lookup=answers.get) == 0
    assert again.used == first.used
    for a, b in zip(first.cells, again.cells):
        assert (a.status, a.path, a.result) == (b.status, b.path, b.result)
    group = GroupState("dwf D=3", "lam", 1e-6, 1e-1, SEEDS, params=266200)
    without = SharedSearch([group], SEEDS, (), (10.0, 100.0), Rules(), dense=False)
    run_serial(without, Problem().train)
    assert without.finished and not any(r.group == "dense" for r in without.used)


def test_resume_after_an_interruption_continues_where_it_stopped():
    problem = Problem()
    first = make()
    todo = first.advance()
    for req in todo[:1]:
        first.observe(req, problem.train(req))
    stored = {req: problem.train(req) for req in first.used}
    resumed = make()
    trained = run_serial(resumed, problem.train, lookup=stored.get)
    full = run(Problem())
    assert len(resumed.used) == len(full.used) and trained == len(full.used) - len(stored)


# ---------------------------------------------------------------------------- level estimates

def full_point(cr: float, mean: float, x: float | None = None):
    from suite.run.search.shared.state import Stats

    return Stats(x if x is not None else cr, 3, True, cr, mean, mean, 0.001, False)


def estimate_at(points, level, rules=Rules()):
    from suite.run.search.shared.estimate import level_estimate

    return level_estimate(points, level, rules, lambda p: p.cr >= level)


def test_a_level_is_interpolated_in_log_cr_between_its_bracket():
    est = estimate_at([full_point(50.0, 0.880), full_point(200.0, 0.876)], 100.0)
    assert est.basis == "flat" and est.value == pytest.approx(0.878)
    assert est.interval == (pytest.approx(0.876), pytest.approx(0.880))


def test_no_estimate_from_a_wide_or_steep_bracket_without_curvature_on_both_sides():
    assert estimate_at([full_point(5.0, 0.88), full_point(200.0, 0.879)], 100.0) is None  # wider than max_bracket
    steep = [full_point(50.0, 0.88), full_point(200.0, 0.80)]
    assert estimate_at(steep, 100.0) is None  # 8 points apart, no neighbours to bound the curvature
    narrow = [full_point(95.0, 0.85), full_point(110.0, 0.80)]
    assert estimate_at(narrow, 100.0).basis == "narrow"  # within two measured bands
    assert estimate_at(steep, 100.0, Rules(level_rule="measured")) is None


def test_the_curvature_bound_accepts_a_straight_stretch_and_refuses_a_knee():
    # mean accuracy linear in log CR on both sides: no curvature, any bracket within max_bracket will do
    line = [full_point(c, 0.90 - 0.01 * math.log(c)) for c in (12.5, 25.0, 50.0, 200.0, 400.0)]
    est = estimate_at(line, 100.0)
    assert est.basis == "curvature" and est.value == pytest.approx(0.90 - 0.01 * math.log(100.0)) and est.bound < 1e-9
    # a collapse right after the bracket: the slope changes by 0.2 per unit log CR there, the bound is too wide
    knee = line[:4] + [full_point(400.0, 0.90 - 0.01 * math.log(200.0) - 0.2 * math.log(2.0))]
    assert estimate_at(knee, 100.0) is None


def test_only_a_lambda_axis_level_is_estimated():
    """Full points at CR 50 and 200 bracket level 100 flatly: estimated on the λ axis; a compression target is
    its own level, so a pruning group keeps searching (its band, or another stop)."""
    from suite.run.search.shared import Cell
    from suite.run.search.shared.levels import level_stop, provisional

    for axis, xs, status in (("lam", (1e-3, 2e-3), "estimated"), ("compression", (50.0, 200.0), None)):
        g = GroupState("g", axis, xs[0] / 2, xs[1] * 4, SEEDS, params=266200)
        for x, cr, acc in zip(xs, (50.0, 200.0), (0.880, 0.876)):
            for s in SEEDS:
                g.record(x, s, Result(acc, cr))
        a, b = provisional(g.points(), 100.0, g.reach_tol())
        assert level_stop(g, g.points(), a, b, Cell("g", "level", 100.0), Rules())[0] == status


def test_a_failed_seed_is_left_out_of_a_points_accuracy():
    """A seed that failed (no rows) has no accuracy: the point's median is over the others, as the report's."""
    problem = Problem()
    search = make(levels=())

    def flaky(req):
        if req.group != "dense" and req.seed == 1:
            return None
        return problem.train(req)

    run_serial(search, flaky)
    g = search.groups["dwf D=3"]
    full = [p for p in g.points() if p.full]
    assert full and all(not math.isnan(p.acc) for p in full)
    assert all(c.status != "running" for c in search.cells)
