"""A Table 2 level cell of the shared search: measured (a configuration within tolerance above the level)
or, in a λ-axis group, estimated (interpolated in log CR between two bracketing configurations of every
seed); the rule is stated in `suite.run.search.shared`."""

from __future__ import annotations

import math

from suite.run.search.bisect.cells import snap
from suite.run.search.shared.estimate import Estimate, level_estimate
from suite.run.search.shared.cells import Cell, Decision, next_point, open_end, stagnating
from suite.run.search.shared.state import GroupState, Rules, Stats


def reaches(p: Stats, level: float, tol: float) -> bool:
    """The point's median sparsity reaches the level's within `tol` (`GroupState.reach_tol`)."""
    return 1.0 / p.cr <= 1.0 / level + tol


def in_band(p: Stats, level: float, rules: Rules, tol: float) -> bool:
    return not p.broken and reaches(p, level, tol) and p.cr <= level * (1 + rules.tolerance)


def provisional(pts: list[Stats], level: float, tol: float) -> tuple[Stats | None, Stats | None]:
    """(a, b) over every point: a = the last unbroken point short of the level (on the axis), b = the first
    point above it that reaches the level or is broken (a collapsed or diverged point caps the search)."""
    a = max((p for p in pts if not p.broken and not reaches(p, level, tol)), key=lambda p: p.x, default=None)
    b = min((p for p in pts if (a is None or p.x > a.x) and (p.broken or reaches(p, level, tol))),
            key=lambda p: p.x, default=None)
    return a, b


def settle(cell: Cell, status: str, full: list[Stats], level: float, ends: tuple, tol: float,
           est: Estimate | None = None) -> None:
    """The cell over the configurations with every seed: the report's rule (best mean accuracy among those
    reaching the level); for an "estimated" stop, the estimate `est` where it is higher."""
    reach = [p for p in full if reaches(p, level, tol)]
    best = max(reach, key=lambda p: (p.mean, -p.cr), default=None)
    cell.status, cell.interval, cell.basis = status, None, None
    cell.cell_x, cell.result = (best.x, best.mean) if best is not None else (None, None)
    cell.bracket = tuple(p.x if p is not None else None for p in ends)
    if est is not None:
        cell.interval, cell.basis = est.interval, est.basis
        if best is None or est.value > best.mean:
            cell.cell_x, cell.result = None, est.value
        else:
            cell.status = "resolved"  # a measured configuration beats the estimate: the report's own cell


def level_stop(g: GroupState, pts: list[Stats], a, b, cell: Cell, rules: Rules):
    """(status, the points to complete first, the estimate) where the cell may stop now, else (None, [], None)."""
    level, tol = cell.value, g.reach_tol()
    band = [p for p in pts if in_band(p, level, rules, tol)]
    if band:
        return "resolved", [min(band, key=lambda p: p.cr)], None
    # The estimate rests on the configurations of every seed and on the provisional ends a, b (to complete).
    # λ-axis groups only: a compression-axis level is its own target, resolved by a point in its band.
    est = level_estimate([p for p in pts if p.full or p is a or p is b], level, rules,
                         lambda p: reaches(p, level, tol)) if g.axis == "lam" else None
    if est is not None:
        return "estimated", [est.a, est.b], est
    lo, hi = g.stats(g.lo), g.stats(g.hi)
    if lo is not None and reaches(lo, level, tol):
        return "bound", [lo], None
    if b is None and hi is not None:
        return "none", [hi], None
    if a is not None and b is not None and b.x <= a.x * rules.axis_resolution:
        return "axis", [a, b], None
    if cell.spent >= rules.budget:
        return "budget", [p for p in (a, b) if p is not None], None
    return None, [], None


def judge_level(g: GroupState, cell: Cell, m, rules: Rules) -> Decision:
    """`m(x)`: the racing margin at x (`suite.run.search.shared.state.margin`)."""
    level, pts, tol = cell.value, g.points(), g.reach_tol()
    a, b = provisional(pts, level, tol)
    stop, ends, est = level_stop(g, pts, a, b, cell, rules)
    if stop is None:
        x = level_next(g, cell, a, b, rules)
        if x is not None:
            return Decision(propose=x)
        stop, ends = "axis", [p for p in (a, b) if p is not None]
    need = [p.x for p in ends if not p.full and not (p.broken and p is b)]
    bracket = (est.a, est.b) if est is not None else (a, b)
    settle(cell, stop, [p for p in pts if p.full], level, bracket, tol, est if not need else None)
    # A point measured on fewer seeds that clearly beats the cell (by more than the racing margin) could be
    # the report's cell (accuracy not monotone): it gets its other seeds too.
    if cell.result is not None:
        need += [p.x for p in pts if not p.full and not p.broken and reaches(p, level, tol)
                 and p.acc > cell.result + m(p.x)]
    if need:
        cell.status = "running"
        return Decision(promote=sorted(set(need)))
    return Decision()


def crs_flat(g: GroupState, a: Stats, cell: Cell) -> bool:
    """The fitted CR does not reach the level by the grid's upper bound (it stays at its last value beyond
    the last point): inverse interpolation has nowhere to go."""
    crs = g.cr_curve()
    return not crs or crs.at(math.log(g.hi)) < math.log(cell.value)


def level_next(g: GroupState, cell: Cell, a: Stats | None, b: Stats | None, rules: Rules) -> float | None:
    end = open_end(g, cell, a, b, rules)
    if end is not None:
        return end
    if a is not None and b is None and g.stats(g.hi) is None and g.axis == "lam" and crs_flat(g, a, cell):
        cell.how.append("end")  # nothing reaches the level and the CR curve gives no direction: the bound
        return g.hi
    ua, ub = math.log(a.x if a else g.lo), math.log(b.x if b else g.hi)
    own = snap(cell.value)
    if g.axis == "compression" and ua <= math.log(own) <= ub and own not in g.results:
        cell.how.append("target")  # a compression target is its own compression ratio: run the level itself
        return own
    # Aim at the level itself (the nearer a point, the tighter an estimate), or, under the measured rule,
    # at the middle of its band [level, level x (1 + tolerance)].
    target = math.log(cell.value) + (rules.tau / 2 if rules.level_rule == "measured" else 0.0)
    crs = g.cr_curve()
    proposal = crs.inverse(target, ua, ub) if crs else None
    side = lambda x: None if g.stats(x) is None else reaches(g.stats(x), cell.value, g.reach_tol())  # noqa: E731
    return next_point(g, cell, ua, ub, proposal, stagnating(cell, side))


__all__ = ["judge_level", "level_stop", "provisional", "reaches", "settle"]
