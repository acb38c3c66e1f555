"""benchmarks/replay_floor.py: the fewest trials the cells' rules force, checked on cases small enough to count
by hand, and against the rules applied literally (strict inequalities, one-seed points placed explicitly)."""

import math
import random
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from replay_floor import Problem, candidates, floor, min_trials, placement, step  # noqa: E402
from replay_oracle import Oracle, synthetic_rows  # noqa: E402

TOL = 0.1
PRUNING = [10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0]


def problem(levels, thresholds=(), bracket=10.0, top=2000.0, seeds=3) -> Problem:
    """Levels reached exactly at L (no one-parameter tolerance), bands [L, 1.1 L]."""
    return Problem(seeds, tuple((c, c * (1 + TOL)) for c in levels), tuple(thresholds), TOL, bracket, top)


def cost_of(pb: Problem, points: list[float]) -> float:
    """The trials a given ascending list of full points spends (inf where it breaks a rule); no boundary
    equals a point here."""
    nodes, total = [None, *points, None], 0
    for f, g in zip(nodes, nodes[1:]):
        c = step(pb, f, g, False, False)
        if c is None:
            return math.inf
        total += c
    return total


def test_one_configuration_can_sit_in_a_band_and_bracket_the_next_level():
    # The reviewer's case: 10.95 is in 10's band and within 10x of 109.5, which is in 109's band and brackets
    # 20 with 10.95: two configurations, where a grid of candidates without 109.5 / 10 counted three.
    pb = problem([10.0, 20.0, 109.0], top=1200.0)
    assert min_trials(pb) == 2 * 3
    assert len(placement(pb)[1]) == 2
    assert cost_of(pb, [10.95, 109.5]) == 6


def test_levels_a_decade_apart_need_one_configuration_each_at_a_bracket_of_ten():
    assert min_trials(problem([10.0, 100.0, 1000.0])) == 9
    assert min_trials(problem([10.0, 100.0, 1000.0], bracket=100.0)) == 6  # 10's band point, and ~1000
    assert min_trials(problem([10.0, 100.0, 1000.0], bracket=None)) == 9  # measured rule / compression axis


def test_a_level_target_serves_as_an_eps_cells_failing_end():
    # GMP-like: every level on its own target; ε=5's boundary at 185.9: its configuration p in
    # [200 / 1.1, 185.9] = [181.8, 185.9] has level 200's target within 10% above it, so no one-seed point.
    pb = problem(PRUNING, [185.9], bracket=None, top=1000.0)
    assert min_trials(pb) == 8 * 3 + 3
    assert cost_of(pb, [*PRUNING[:4], 183.0, *PRUNING[4:]]) == 27
    # At 175.9 no p within 10% below the boundary reaches 200: a one-seed failing end is needed.
    assert min_trials(problem(PRUNING, [175.9], bracket=None, top=1000.0)) == 8 * 3 + 3 + 1


def test_a_lambda_axis_point_is_both_a_failing_end_and_a_band_point():
    # ε boundary 95, level 100: p in [100 / 1.1, 95] on every seed, and one point in 100's band [100, 110]
    # that is also p's failing end (within 10% above it): two configurations, no one-seed point.
    pb = problem([100.0], [95.0])
    assert min_trials(pb) == 6
    assert cost_of(pb, [92.0, 101.0]) == 6
    # With level 10 below: 10's band point first (nothing brackets it from below), then the same two.
    assert min_trials(problem([10.0, 100.0], [95.0])) == 9


def test_eps_cells_with_a_failing_end_each_or_shared():
    assert min_trials(problem([], [50.0])) == 3 + 1  # p on every seed, one-seed failing end in (50, 1.1 p]
    assert min_trials(problem([], [50.0, 52.0])) == 3 + 1  # p in [47.3, 50] serves both; one failing end
    # 50 and 60: p1 in [45.5, 50], p2 in [54.5, 60]; p2 in [54.5, 55] is p1's failing end: 2 full + 1.
    assert min_trials(problem([], [50.0, 60.0])) == 3 + 3 + 1


def test_nothing_to_cover_costs_nothing_and_an_unreachable_level_cannot_be_covered():
    assert min_trials(problem([])) == 0
    assert min_trials(problem([10.0, 5000.0])) == math.inf
    assert min_trials(problem([], [2500.0])) == math.inf  # a boundary above every point


def literal(pb: Problem, xs) -> float:
    """The rules as the module docstring states them (strict inequalities, a one-seed point anywhere), over
    the CRs xs only: the fewest trials of a placement on xs, so at least the true minimum."""
    grow = 1 + pb.tol
    best = {(None, False, None): 0}  # (last point, it is full, last full point) -> fewest trials
    for y in sorted(x for x in set(xs) if 1.0 <= x <= pb.top):
        for (x, x_full, f), so_far in list(best.items()):
            if any((x is None or x <= t) and t < y and (x is None or not x_full or x < t / grow or y > x * grow)
                   for t in pb.thresholds):
                continue  # a boundary in [x, y) with no full p = x, or with its failing end y too far
            key = (y, False, f)
            best[key] = min(best.get(key, math.inf), so_far + 1)
            if all(not ((f is None or f < lo) and lo <= y) or y <= hi
                   or (pb.bracket and f is not None and y <= f * pb.bracket) for lo, hi in pb.levels):
                best[(y, True, y)] = min(best.get((y, True, y), math.inf), so_far + pb.seeds)
    return min((c for (x, _, f), c in best.items()
                if all(x is not None and t < x for t in pb.thresholds)
                and all(f is not None and lo <= f for lo, _ in pb.levels)), default=math.inf)


def test_the_candidates_reach_the_minimum_of_the_literal_rules():
    """Random small problems: a fine grid never beats the candidates (the docstring's argument), and the rules
    applied literally on the candidates, nudged by a few 1e-7, spend exactly the floor."""
    rng = random.Random(2)
    for _ in range(25):
        top = 10 ** rng.uniform(1.5, 3.2)
        levels = [c for c in sorted(rng.sample([2, 5, 10, 20, 50, 100, 200, 400, 1000], rng.randint(0, 4)))
                  if c <= top]
        ts = sorted(10 ** rng.uniform(0.2, math.log10(top)) for _ in range(rng.randint(0, 2)))
        pb = problem(levels, ts, bracket=rng.choice([None, 10.0]), top=top)
        least = min_trials(pb)
        assert min_trials(pb, np.geomspace(1.0, top, 400)) == least
        # Strict inequalities along a chain (p < q = the next p ...) need nudges growing down the chain.
        nudges = [1 - 1e-7] + [1 + k * 1e-7 for k in range(4)]
        xs = [c * m for c in [*candidates(pb), *ts] for m in nudges]
        assert literal(pb, xs) == least


def synthetic_oracle():
    lams = np.geomspace(3e-4, 2e-2, 10)
    trials = [SimpleNamespace(method="dwf", depth=2, lam=x, compressions=None, seed=s) for x in lams for s in range(3)]
    trials += [SimpleNamespace(method="gmp", depth=None, lam=None, compressions=[c], seed=s)
               for c in PRUNING for s in range(3)]
    oracle = Oracle(synthetic_rows(trials), {"dwf": "lam", "gmp": "compression"})
    bases = [SimpleNamespace(seed=s) for s in range(3)]
    groups = [SimpleNamespace(key="dwf D=2", axis="lam", lo=lams[0], hi=lams[-1], bases=bases),
              SimpleNamespace(key="gmp", axis="compression", lo=10.0, hi=1000.0, bases=bases)]
    return oracle, SimpleNamespace(groups=groups), SimpleNamespace(tolerance=TOL, eps=[5.0, 10.0], levels=PRUNING)


def test_the_floor_of_a_store_and_the_measured_rule():
    oracle, plan, settings = synthetic_oracle()
    estimated = floor(oracle, plan, settings, 10.0)
    measured = floor(oracle, plan, settings, 10.0, "measured")
    assert estimated["dense"] == measured["dense"] == 3
    assert estimated["gmp"] == measured["gmp"]  # compression-axis levels are never estimated
    assert measured["dwf D=2"] > estimated["dwf D=2"]  # no brackets: a band point per level
    assert 8 * 3 <= measured["dwf D=2"] < math.inf
