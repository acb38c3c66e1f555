"""The cells of the shared search and their rules (stated in `suite.run.search.shared`): an ε cell of Table 1 and a
level cell of Table 2, each judged on every point of its group, each returning the seeds to add (racing:
a point's other seeds) or the next point to propose."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from suite.run.search.bisect.cells import snap
from suite.run.search.shared.fit import place_in_cr, safeguarded, secant
from suite.run.search.shared.state import GroupState, Rules, Stats

ACC_TOL = 1e-9  # the report's inclusive accuracy threshold (suite.analysis.selections.ACC_TOL)


@dataclass
class Cell:
    group: str  # the group's key
    kind: str  # "eps" | "level"
    value: float  # ε in points, or the level as a compression ratio
    status: str = "running"  # running | resolved | estimated | axis | bound | none | budget
    path: list[float] = field(default_factory=list)  # the points it proposed (merged ones included)
    how: list[str] = field(default_factory=list)  # per proposal: "interpolated" | "bisection" | "end"
    spent: int = 0  # its own proposals that were run (its budget); waiting for another cell's point is free
    cell_x: float | None = None
    result: float | None = None  # ε: the cell's CR; level: its mean accuracy (estimated or measured)
    bracket: tuple = (None, None)  # the axis values the cell (or its estimate) rests on
    interval: tuple | None = None  # level estimate: the bracket's mean accuracies (low, high)
    basis: str | None = None  # level estimate: the error bound it met ("narrow" | "flat" | "curvature")

    @property
    def name(self) -> str:
        return f"ε={self.value:g}" if self.kind == "eps" else f"CR≥{self.value:g}"

    @property
    def title(self) -> str:
        return f"{self.group} {self.name}"


@dataclass
class Decision:
    """What a cell wants now: seeds to add at points (racing), or one new point (first seed only)."""

    promote: list[float] = field(default_factory=list)
    propose: float | None = None


CREEP = 3  # this many proposals in a row on one side of a cell's boundary: bisect


def stagnating(cell: Cell, side) -> bool:
    """Its last CREEP proposals fell on the same side of its boundary (regula falsi's one-sided creep)."""
    sides = [side(x) for x in cell.path[-CREEP:]]
    return len(sides) == CREEP and None not in sides and len(set(sides)) == 1


def _finish(cell: Cell, status: str, chosen: Stats | None, bracket: tuple, result: float | None = None) -> None:
    cell.status, cell.bracket = status, bracket
    cell.cell_x = chosen.x if chosen is not None else None
    if result is not None:
        cell.result = result
    elif chosen is None:
        cell.result = None
    else:
        cell.result = chosen.cr if cell.kind == "eps" else chosen.mean


def eps_stop(g: GroupState, a: Stats | None, b: Stats | None, rules: Rules, cell: Cell) -> str | None:
    if a is None:
        return "none" if g.stats(g.lo) is not None else None
    if b is None:
        return "bound" if a.x >= g.hi or g.stats(g.hi) is not None else None
    if a.cr < b.cr <= a.cr * (1 + rules.tolerance):
        return "resolved"
    if b.x <= a.x * rules.axis_resolution:
        return "axis"
    return "budget" if cell.spent >= rules.budget else None


def eps_confirm(pts: list[Stats], a: Stats | None, b: Stats | None, threshold: float, m) -> list[float]:
    """The point to complete before an ε cell may stop, one at a time, each making the next needless should
    it change the cell: its own point a; else the sparsest point beyond a not clearly failing (accuracy
    not more than m(x) below the threshold: it could be the cell); else its failing end b unless clearly
    failing. [] when none is left."""
    if a is not None and not a.full:
        return [a.x]
    rivals = [p for p in pts if not p.full and not p.broken and p.acc >= threshold - m(p.x)
              and (a is None or p.cr > a.cr)]
    if rivals:
        return [max(rivals, key=lambda p: (p.cr, p.x)).x]
    if b is not None and not b.full and b.acc >= threshold - m(b.x):
        return [b.x]
    return []


def judge_eps(g: GroupState, cell: Cell, threshold: float, m, rules: Rules) -> Decision:
    """`m(x)`: the racing margin at x (`suite.run.search.shared.state.margin`)."""
    pts = g.points()
    passing = [p for p in pts if not p.broken and p.acc >= threshold - ACC_TOL]
    a = max(passing, key=lambda p: (p.cr, p.acc, p.x), default=None)
    b = min((p for p in pts if p not in passing and (a is None or p.x > a.x)), key=lambda p: p.x, default=None)
    stop = eps_stop(g, a, b, rules, cell)
    if stop is None:
        x = eps_next(g, cell, a, b, threshold, rules, passing)
        if x is not None:
            return Decision(propose=x)
        stop = "axis"
    need = eps_confirm(pts, a, b, threshold, m)
    if need:
        return Decision(promote=need)
    full = [p for p in passing if p.full]
    chosen = max(full, key=lambda p: (p.cr, p.acc, p.x), default=None)
    _finish(cell, stop, chosen, (a.x if a else None, b.x if b else None))
    return Decision()


def fresh(g: GroupState, u: float, ua: float, ub: float) -> float | None:
    """The snapped axis value of u if it is new and strictly inside (ua, ub), else None."""
    x = snap(math.exp(u))
    return x if x not in g.results and math.log(x) > ua + 1e-12 and math.log(x) < ub - 1e-12 else None


def next_point(g: GroupState, cell: Cell, ua: float, ub: float, proposal: float | None, stuck: bool) -> float | None:
    """The safeguarded proposal, snapped; the bracket's midpoint where it is unusable; None where neither is a
    new point inside the bracket (the axis is resolved there)."""
    u, how = safeguarded(proposal, ua, ub, stuck)
    x = fresh(g, u, ua, ub)
    if x is None and how == "interpolated":
        how, x = "bisection", fresh(g, (ua + ub) / 2, ua, ub)
    if x is not None:
        cell.how.append(how)
    return x


def open_end(g: GroupState, cell: Cell, lower: Stats | None, upper: Stats | None, rules: Rules) -> float | None:
    """An unevaluated grid bound next to a measured end, the bracket between them too narrow to split, is
    evaluated itself."""
    ends = []
    if lower is None and upper is not None and g.stats(g.lo) is None and upper.x <= g.lo * rules.axis_resolution:
        ends.append(g.lo)
    if upper is None and lower is not None and g.stats(g.hi) is None and lower.x * rules.axis_resolution >= g.hi:
        ends.append(g.hi)
    if ends:
        cell.how.append("end")
        return ends[0]
    return None


def eps_next(g: GroupState, cell: Cell, a, b, threshold: float, rules: Rules, passing) -> float | None:
    end = open_end(g, cell, a, b, rules)
    if end is not None:
        return end
    ua = math.log(a.x if a else g.lo)
    ub = math.log(b.x if b else g.hi)
    accs, crs = g.acc_curve(), g.cr_curve()
    va, vb = (accs.at(ua) if a is not None else None), (accs.at(ub) if b is not None else None)
    fa, fb = (None if v is None else v - threshold for v in (va, vb))
    u_sec, proposal = secant(ua, ub, fa, fb), None
    if u_sec is not None:
        ca = a.logcr if a is not None and not a.broken else None
        cb = b.logcr if b is not None and not b.broken else None
        target = crs.at(u_sec) if crs else None
        placed = place_in_cr(crs, target, ua, ub, ca, cb, rules.tau) if target is not None else None
        proposal = placed if placed is not None else u_sec
    side = lambda x: None if g.stats(x) is None else g.stats(x) in passing  # noqa: E731
    return next_point(g, cell, ua, ub, proposal, stagnating(cell, side))


__all__ = ["ACC_TOL", "Cell", "Decision", "eps_confirm", "eps_stop", "judge_eps", "next_point",
           "open_end", "stagnating"]
