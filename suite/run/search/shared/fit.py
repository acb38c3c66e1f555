"""Monotone fits in log space and the safeguarded step that proposes a search's next point. Pure numbers.

u is the log of the axis value (log λ, log target compression); c is a log compression ratio.
"""

from __future__ import annotations

import math
from typing import Sequence

# A step that lands within this share of the bracket's width of an end is replaced by bisection: it would
# shrink the bracket by almost nothing (regula falsi's one-sided stagnation).
EDGE_SHARE = 0.05
# Below this change over a bracket a curve counts as flat: no secant through it.
FLAT = 1e-9


def isotonic(values: Sequence[float], weights: Sequence[float], increasing: bool = True) -> list[float]:
    """Weighted least-squares monotone fit (pool adjacent violators) of values in their given order."""
    sign = 1.0 if increasing else -1.0
    blocks: list[list[float]] = []  # [weighted mean (signed), weight, count]
    for v, w in zip(values, weights):
        blocks.append([sign * v, float(w), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return [sign * m for m, _, n in blocks for _ in range(n)]


class Curve:
    """A monotone piecewise-linear function through fitted points (u ascending); constant beyond its ends."""

    def __init__(self, us: Sequence[float], values: Sequence[float], weights: Sequence[float], increasing: bool):
        self.us = list(us)
        self.vs = isotonic(values, weights, increasing) if self.us else []
        self.increasing = increasing

    def __bool__(self) -> bool:
        return bool(self.us)

    def at(self, u: float) -> float | None:
        if not self.us:
            return None
        if u <= self.us[0]:
            return self.vs[0]
        for (u0, v0), (u1, v1) in zip(zip(self.us, self.vs), zip(self.us[1:], self.vs[1:])):
            if u <= u1:
                return v0 + (v1 - v0) * (u - u0) / (u1 - u0) if u1 > u0 else v1
        return self.vs[-1]

    def inverse(self, v: float, lo: float, hi: float) -> float | None:
        """The u in (lo, hi) where the curve passes v (linear inside a segment); None where it does not
        pass v strictly inside or is flat there."""
        knots = [lo] + [u for u in self.us if lo < u < hi] + [hi]
        for u0, u1 in zip(knots, knots[1:]):
            v0, v1 = self.at(u0), self.at(u1)
            if v0 is None or abs(v1 - v0) < FLAT:
                continue
            if min(v0, v1) <= v <= max(v0, v1):
                return u0 + (u1 - u0) * (v - v0) / (v1 - v0)
        return None


def bisect(ua: float, ub: float) -> float:
    return (ua + ub) / 2


def inside(u: float | None, ua: float, ub: float) -> bool:
    """u lies in the bracket, away from both ends by EDGE_SHARE of its width."""
    margin = EDGE_SHARE * (ub - ua)
    return u is not None and math.isfinite(u) and ua + margin <= u <= ub - margin


def secant(ua: float, ub: float, fa: float | None, fb: float | None, falling: bool = True) -> float | None:
    """Regula falsi: where the line through (ua, fa), (ub, fb) crosses 0; None where the ends do not bracket
    a change of sign in the expected direction (falling: fa >= 0 > fb; else fa < 0 <= fb), i.e. the stretch
    is not monotone as expected, where a value is unknown, or where the stretch is flat."""
    if fa is None or fb is None or not (math.isfinite(fa) and math.isfinite(fb)):
        return None
    if abs(fa - fb) < FLAT or not ((fa >= 0 > fb) if falling else (fa < 0 <= fb)):
        return None
    return ua + (ub - ua) * fa / (fa - fb)


def place_in_cr(cr_curve: Curve, c_target: float, ua: float, ub: float, ca: float | None, cb: float | None,
                tau: float) -> float | None:
    """u where the fitted log CR equals c_target, kept at least tau (log of 1 + tolerance) in log CR from both
    ends where the bracket is wider than 2 tau; where it is not, the point one tau from the end nearer the
    target, so that either outcome of the new point shrinks the bracket to the tolerance or by tau. None
    where the CR curve is flat or unknown over the bracket (the caller bisects)."""
    if ca is None or cb is None or not (math.isfinite(ca) and math.isfinite(cb)) or cb - ca < FLAT:
        return None
    if cb - ca <= 2 * tau:
        c = ca + 0.95 * tau if c_target - ca <= cb - c_target else cb - 0.95 * tau
    else:
        c = min(max(c_target, ca + tau), cb - tau)
    return cr_curve.inverse(c, ua, ub)


def safeguarded(proposal: float | None, ua: float, ub: float, stagnating: bool) -> tuple[float, str]:
    """The proposal where it lies well inside the bracket and the cell is not stagnating (its last two
    points fell on the same side), else the bracket's midpoint. Returns (u, "interpolated" | "bisection")."""
    if proposal is not None and not stagnating and inside(proposal, ua, ub):
        return proposal, "interpolated"
    return bisect(ua, ub), "bisection"


__all__ = ["Curve", "EDGE_SHARE", "FLAT", "bisect", "inside", "isotonic", "place_in_cr", "safeguarded", "secant"]
