"""A Table 2 level estimated between two configurations of every seed that bracket it: mean accuracy linear
in log CR, with an error bound (the rule is stated in `suite.run.search.shared`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from suite.run.search.shared.state import Rules, Stats


@dataclass(frozen=True)
class Estimate:
    value: float  # mean accuracy at the level
    bound: float  # |error| at most this, under the rule's assumption
    a: Stats  # the bracket's end short of the level
    b: Stats  # the end reaching it
    basis: str  # "narrow" | "flat" | "curvature"

    @property
    def interval(self) -> tuple[float, float]:
        lo, hi = min(self.a.mean, self.b.mean), max(self.a.mean, self.b.mean)
        return max(lo, self.value - self.bound), min(hi, self.value + self.bound)


def chain(points: list[Stats]) -> list[Stats]:
    """Unbroken points with a finite CR, ascending in CR."""
    return sorted((p for p in points if not p.broken and math.isfinite(p.logcr)), key=lambda p: (p.cr, p.x))


def slope(p: Stats, q: Stats) -> float | None:
    return (q.mean - p.mean) / (q.logcr - p.logcr) if q.logcr > p.logcr else None


def curvature(pts: list[Stats], i: int) -> float | None:
    """The larger change of slope (mean accuracy per unit log CR) per unit log CR between the segment
    (i, i+1) and its two neighbours in the chain; None unless it has both (a knee next to the bracket, e.g.
    the collapse, would otherwise go unseen on its open side)."""
    here = slope(pts[i], pts[i + 1])
    found = []
    for j in (i - 1, i + 1):
        if 0 <= j < len(pts) - 1 and j != i:
            there = slope(pts[j], pts[j + 1])
            span = (max(pts[i + 1].logcr, pts[j + 1].logcr) - min(pts[i].logcr, pts[j].logcr)) / 2
            if here is not None and there is not None and span > 0:
                found.append(abs(here - there) / span)
    return max(found) if len(found) == 2 else None


def level_estimate(points: list[Stats], level: float, rules: Rules, reach) -> Estimate | None:
    """The estimate at `level` from the chain of `points` (reach(p): p reaches the level), or None where
    the bracket is missing, wider than max_bracket, or its error bound exceeds what the rule allows."""
    if rules.level_rule != "interpolated":
        return None
    pts = chain(points)
    i = max((k for k, p in enumerate(pts) if not reach(p)), default=None)
    if i is None or i + 1 >= len(pts) or not reach(pts[i + 1]):
        return None
    a, b = pts[i], pts[i + 1]
    ratio, ell = b.cr / a.cr, math.log(level)
    w = (ell - a.logcr) / (b.logcr - a.logcr) if b.logcr > a.logcr else 0.0
    value, spread = a.mean + w * (b.mean - a.mean), abs(a.mean - b.mean)
    if ratio <= (1 + rules.tolerance) ** 2:  # two measured bands: no worse than one configuration in one
        return Estimate(value, spread, a, b, "narrow")
    if ratio > rules.max_bracket:
        return None
    if spread <= rules.level_acc_tol:
        return Estimate(value, spread, a, b, "flat")
    kappa = curvature(pts, i)
    if kappa is None:
        return None
    bound = kappa / 2 * (ell - a.logcr) * (b.logcr - ell)
    allowed = max(rules.level_acc_tol, abs(slope(a, b) or 0.0) * rules.tau)
    return Estimate(value, bound, a, b, "curvature") if bound <= allowed else None


__all__ = ["Estimate", "chain", "curvature", "level_estimate", "slope"]
