"""The fewest trials any search obeying the cells' rules could spend on an oracle it knew in advance: a floor
under every search's count, printed by `search_replay.py` beside the searches' own counts.

The floor counts only what the rules force, with no exploration at all (each point is placed where the
oracle's median curves say it should be):

* dense: every seed;
* a compression-axis group (GMP, SNIP, SynFlow, random): each Table 2 level inside its bounds is its own
  target, on every seed; each ε cell with a true boundary t (the oracle's cell) needs its configuration a on
  every seed, unless a level target lies in [t / (1 + tol), t] (then a is that level), and a failing point b
  with t < CR(b) <= CR(a) (1 + tol) on at least one seed (no level target lies that close above a);
  ε cells whose a-intervals overlap share a, and likewise their b;
* a λ-axis group (DWF): each ε cell's a at its true boundary on every seed and its b on one seed; Table 2
  levels need configurations on every seed so that each level reachable by the group's median curve either
  has one in its band [L, L (1 + tol)] or lies between two consecutive ones whose CRs differ by at most a
  factor max_bracket (the estimate's widest bracket; its narrow/flat/curvature conditions are ignored,
  which only lowers the floor). The fewest such configurations beyond the ε cells' is a shortest path
  over a fine grid of CRs through the ε cells' points.

So the floor is a lower bound: a real search must also find the curves, and its b points within the
racing margin of a threshold need every seed.
"""

from __future__ import annotations

import math

import numpy as np

GRID = 240  # candidate CRs per λ-axis group, log-spaced between CR 1 and the largest unbroken median CR


def _covered(p: float | None, q: float | None, levels, tol: float, max_bracket: float) -> bool:
    """Every level in (p, q] is covered by consecutive full configurations p < q (None: no point there)."""
    for level in levels:
        if (p is None or p < level) and (q is None or level <= q):
            if q is None:
                return False
            band = q <= level * (1 + tol)
            straddle = p is not None and q / p <= max_bracket
            if not (band or straddle):
                return False
    return True


def extra_level_points(fixed: list[float], levels: list[float], top: float, tol: float, max_bracket: float) -> int:
    """The fewest configurations beyond `fixed` (CRs) that cover every level (see the module docstring):
    a shortest path from 'below everything' to 'above everything' through every fixed CR."""
    cands = sorted(set(np.geomspace(1.0, top, GRID).tolist() + fixed))
    must = np.cumsum([0] + [c in set(fixed) for c in cands])  # fixed CRs among cands[:k]
    nodes = [None] + cands + ["end"]
    best = {0: 0}  # node index -> fewest extra points on a path that skips no fixed CR
    for j in range(1, len(nodes)):
        q = None if nodes[j] == "end" else nodes[j]
        for i in range(j):
            # cands strictly between nodes i and j are cands[i:j-1]; none of them may be a fixed one
            if i not in best or must[j - 1] - must[i] > 0:
                continue
            if _covered(nodes[i], q, levels, tol, max_bracket):
                cost = best[i] + (0 if q is None or q in fixed else 1)
                best[j] = min(best.get(j, math.inf), cost)
    return best.get(len(nodes) - 1, math.inf)


def _merge(intervals: list[tuple[float, float]]) -> int:
    """The fewest points that hit every interval [lo, hi] (greedy by right end)."""
    count, last = 0, -math.inf
    for lo, hi in sorted(intervals, key=lambda iv: iv[1]):
        if lo > last:
            count, last = count + 1, hi
    return count


def group_floor(oracle, g, settings, seeds: int, true: dict, max_bracket: float) -> int:
    """The floor of one group (an `AdaptivePlan` group `g`; `true`: the oracle's cells of it)."""
    tol, eps_t = settings.tolerance, [t for (kind, _), t in true.items() if kind == "eps" and t is not None]
    levels = [c for c in settings.levels if g.axis == "lam" or g.lo <= c <= g.hi]
    if g.axis == "compression":
        a_needed = [(t / (1 + tol), t) for t in eps_t if not any(t / (1 + tol) <= c <= t for c in levels)]
        return len(levels) * seeds + _merge(a_needed) * seeds + _merge([(t, t * (1 + tol)) for t in eps_t])
    xs = np.geomspace(g.lo, g.hi, 400)
    cr, _, _ = oracle.groups[g.key].medians(xs)
    top = float(np.max(cr[np.isfinite(cr)]))
    reach = [c for c in levels if true.get(("level", c)) is not None and c <= top]
    a_points = sorted(set(eps_t))
    extra = extra_level_points(a_points, reach, top, tol, max_bracket)
    return (len(a_points) + extra) * seeds + len(a_points)


def floor(oracle, plan, settings, max_bracket: float) -> dict[str, int]:
    """Per group (and "dense"), the floor; `plan`: today's `AdaptivePlan` (its groups and bounds)."""
    seeds = len(plan.groups[0].bases)
    out = {"dense": len(oracle.dense)}
    for g in plan.groups:
        levels = [c for c in settings.levels if g.axis == "lam" or g.lo <= c <= g.hi]
        true = oracle.true_cells(g.key, g.lo, g.hi, settings.eps, levels)
        out[g.key] = group_floor(oracle, g, settings, seeds, true, max_bracket)
    return out
