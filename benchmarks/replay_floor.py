"""The fewest trials any search obeying the cells' rules could spend on an oracle it knew in advance: a floor
under every search's count, printed by `search_replay.py` beside the searches' own counts.

Model. Per group, a search places *full* points (every seed; cost = seeds each) and *one-seed* points (cost
1) on the CR line, each judged by the oracle's median curves, taken as monotone: a point at CR c passes an
ε cell's threshold iff c <= t, its true boundary (the oracle's cell). Dense costs its seeds. The rules:

* level L (Table 2) within the group's reach (true cell not None, L_lo = 1 / (1/L + the report's
  one-parameter tolerance), the least CR reaching L, at most the largest unbroken median CR on the oracle's
  fine axis; a level beyond it is left out): f2 = the first full point reaching L (CR >= L_lo) lies in its
  band, CR <= L (1 + tol) (or is the lower bound's point, where that already reaches L: the "bound" stop);
  or, in a λ-axis group under level_rule "interpolated" only, f2 / f1 <= max_bracket, f1 = the last full
  point short of L_lo (the estimate's widest bracket; its narrow/flat/curvature conditions are ignored,
  which only lowers the floor). Any full point counts: a compression-axis level's own target, or an ε
  cell's point in its band.
* ε cell with true boundary t (not None, and not passing at the axis's upper bound, where the cell stops
  "bound" with no failing end): p = the sparsest point (either kind) with CR <= t must be full, with
  p >= t / (1 + tol), and q = the first point with CR > t satisfies q <= p (1 + tol); q may be of either
  kind (a full point placed for another reason serves).

Reduction. Between two consecutive full points f < g, a one-seed point at or below a boundary t in [f, g)
would be that cell's p, which must be full; so one-seed points only ever serve as the first failing end of
a gap's boundaries: one per gap at most, and none where g <= f (1 + tol). What is left is a shortest path
over the full points, ascending in CR, each step f -> g checking the levels first reached at g and the
boundaries in [f, g) (`step`).

Exactness over the candidates (`candidates`). Relax the rules' strict inequalities to non-strict ones
(which can only lower the minimum). Fixing which levels each full point is first to reach (and whether by
band or bracket), which gap each boundary falls in and which gaps pay a one-seed point, the constraints on
log CR are difference constraints (a step up at most log max_bracket or log(1 + tol), points ascending)
with constant bounds, whose solutions are closed under the componentwise minimum; the least solution costs
the same and puts every point at a lower-bound constant (1, some L_lo, t or t / (1 + tol)) divided by
max_bracket^a (1 + tol)^b, a <= the number of levels, b <= the number of ε cells: one of the candidates.
(Coinciding points can be merged at a lower cost, so the optimum's least solution is strictly ascending.)
Every comparison between computed CRs allows a relative 1e-9 in the search's favour (rounding).
tests/test_replay_floor.py checks both on random small problems: a fine grid added to the candidates never
lowers the minimum, and the rules applied literally (strict, one-seed points anywhere) on the candidates
nudged by a few 1e-7 spend exactly it.

Scope. The floor bounds from below every search whose counted cells end "resolved" or "estimated" (as all
of the shared search's do in the replays; or a level "bound" at the lower bound), with its one-seed points
judged as the median curves judge them (a search whose one-seed guesses err could be luckier), on median
CRs that rise with the axis. It ignores exploring (finding the curves), the racing margin (a failing end
within the seeds' noise of its threshold needs every seed), levels out of reach and cells without a
boundary; a cell ended by "axis" or "budget" is outside what it claims.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from replay_oracle import FINE

from suite.run.search.bisect.cells import levels_of

SLACK = 1e-9  # relative: every inequality between computed CRs is given this much in the search's favour


@dataclass(frozen=True)
class Problem:
    """One group's placement problem on the CR line."""

    seeds: int  # a full point's cost
    levels: tuple[tuple[float, float], ...]  # per level: (L_lo, the largest CR of a point settling it alone)
    thresholds: tuple[float, ...]  # the ε cells' true boundaries t
    tol: float
    bracket: float | None  # max_bracket where levels may be estimated (λ axis, "interpolated"), else None
    top: float  # no unbroken point lies above this CR


def _snap(x: float, consts) -> float:
    return next((c for c in consts if abs(x - c) <= SLACK * c), x)


def candidates(pb: Problem) -> list[float]:
    """The CRs where a least solution can put a full point (the module docstring)."""
    consts = sorted({1.0, *(lo for lo, _ in pb.levels), *pb.thresholds, *(t / (1 + pb.tol) for t in pb.thresholds)})
    steps = len(pb.levels) if pb.bracket is not None else 0
    out = set()
    for c in consts:
        for a in range(steps + 1):
            for b in range(len(pb.thresholds) + 1):
                x = c / (pb.bracket ** a if a else 1.0) / (1 + pb.tol) ** b
                if 1.0 - SLACK <= x <= pb.top * (1 + SLACK):
                    out.add(_snap(x, consts))
    return sorted(out)


def step(pb: Problem, f: float | None, g: float | None, cin: bool, cout: bool) -> int | None:
    """The cost of the full point g next after the full point f (f None: g is the first; g None: f was the
    last), or None where a rule fails between them. cin / cout: a boundary equal to f / g falls in the gap
    after it (else in the gap before)."""
    grow = 1 + SLACK
    for lo, hi in pb.levels:
        reached = lo * (1 - SLACK)  # a point within the slack of the level counts as reaching it
        if (f is None or f < reached) and (g is None or reached <= g):  # g: the first full point reaching it
            if g is None:
                return None
            band = g <= hi * grow
            bracket = pb.bracket is not None and f is not None and g <= f * pb.bracket * grow
            if not (band or bracket):
                return None
    gap = [t for t in pb.thresholds if (f is None or t > f or (cin and t == f))
           and (g is None or t < g or (not cout and t == g))]
    cost = 0 if g is None else pb.seeds
    if not gap:
        return cost
    reach = None if f is None else f * (1 + pb.tol) * grow  # p = f; q at most this
    if reach is None or max(gap) > reach or max(gap) > pb.top * grow:
        return None
    return cost + (0 if g is not None and g <= reach else 1)  # else a one-seed failing end in (max t, reach]


def placement(pb: Problem, extra=()) -> tuple[float, list[float]]:
    """(the fewest trials of one group, the full points of a placement that spends them); (inf, []) where no
    placement obeys the rules. `extra`: more candidate CRs (they cannot lower it: a check)."""
    xs = sorted({*candidates(pb), *(x for x in extra if 1.0 <= x <= pb.top)})
    nodes = sorted([(x, False) for x in xs] + [(x, True) for x in xs if x in pb.thresholds])
    start = (None, False)
    best: dict = {start: (0, None)}  # node -> (fewest trials up to it, the node before it)
    for node in nodes:
        options = []
        for prev, (so_far, _) in best.items():
            cost = step(pb, prev[0], node[0], prev[1], node[1]) if prev is start or prev[0] < node[0] else None
            if cost is not None:
                options.append((so_far + cost, prev))
        if options:
            best[node] = min(options, key=lambda o: o[0])
    ends = [(so_far + cost, node) for node, (so_far, _) in best.items()
            if (cost := step(pb, node[0], None, node[1], False)) is not None]
    if not ends:
        return math.inf, []
    total, node = min(ends, key=lambda o: o[0])
    points = []
    while node is not start:
        points.append(node[0])
        node = best[node][1]
    return total, points[::-1]


def min_trials(pb: Problem, extra=()) -> float:
    return placement(pb, extra)[0]


def group_problem(oracle, g, settings, seeds: int, true: dict, bracket: float | None) -> Problem:
    """The placement problem of one group (an `AdaptivePlan` group `g`; `true`: the oracle's cells of it)."""
    og, tol = oracle.groups[g.key], settings.tolerance
    measured = np.exp(np.concatenate([c.u for c in og.curves.values()]))
    xs = np.unique(np.concatenate([np.geomspace(g.lo, g.hi, FINE), measured, [g.lo, g.hi]]))
    xs = xs[(xs >= g.lo) & (xs <= g.hi)]
    cr, acc, _ = og.medians(xs)
    reach_top = float(np.max(cr[np.isfinite(cr)]))
    # A median CR is at most its largest seed's; a seed's CR is interpolated between its measured CRs.
    top = max(float(np.exp(c.logcr[np.isfinite(c.logcr)]).max()) for c in og.curves.values())
    one = max(1e-6, 1.0 / oracle.total_params) + 1e-9  # the report's one-parameter tolerance
    levels = []
    for (kind, value), cell in true.items():
        lo = 1.0 / (1.0 / value + one)
        if kind == "level" and cell is not None and lo <= reach_top:
            hi = value * (1 + tol)
            levels.append((lo, max(hi, float(cr[0])) if cr[0] >= lo else hi))  # cr[0]: the lower bound's
    dense = oracle.dense_median()
    thresholds = [t for (kind, e), t in true.items()
                  if kind == "eps" and t is not None and not acc[-1] >= dense - e / 100 - 1e-9]
    return Problem(seeds, tuple(sorted(levels)), tuple(sorted(thresholds)), tol,
                   bracket if g.axis == "lam" else None, top)


def floor(oracle, plan, settings, max_bracket: float, level_rule: str = "interpolated") -> dict[str, int]:
    """Per group (and "dense"), the floor; `plan`: today's `AdaptivePlan` (its groups and bounds)."""
    seeds = len(plan.groups[0].bases)
    out = {"dense": len(oracle.dense)}
    bracket = max_bracket if level_rule == "interpolated" else None
    for g in plan.groups:
        levels = levels_of(g, settings.levels)
        true = oracle.true_cells(g.key, g.lo, g.hi, settings.eps, levels)
        out[g.key] = min_trials(group_problem(oracle, g, settings, seeds, true, bracket))
    return out
