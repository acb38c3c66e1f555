"""The shared search's data: a group's measured points (per axis value and seed), their statistics over the
seeds measured so far, the group's monotone model, and the rules' constants. Data and statistics only; the
cells' rules are `suite.run.search.shared.cells`."""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass, field

from suite.run.search.shared.fit import Curve


@dataclass(frozen=True)
class Rules:
    """The constants of the rule (`suite.run.search.shared` states it)."""

    tolerance: float = 0.1  # CR tolerance of a cell (0.1 = 10%)
    budget: int = 12  # proposals one cell may make (single-seed points, most of them)
    noise_k: float = 3.0  # racing margin = max(noise_floor, noise_k x seed std)
    noise_floor: float = 0.005  # accuracy (fraction): 0.5 percentage points
    max_bracket: float = 10.0  # level estimate: CR ratio of the bracketing configurations at most this
    # A level cell (λ axis) waits for a point proposed this round whose fitted CR lies within this factor of its
    # level (inf: any point proposed this round): fewer points, more rounds.
    share_factor: float = math.inf
    level_acc_tol: float = 0.005  # level estimate: their mean accuracies differ by at most this
    level_rule: str = "interpolated"  # or "measured": a configuration within tolerance above the level

    @property
    def tau(self) -> float:
        return math.log1p(self.tolerance)

    @property
    def axis_resolution(self) -> float:
        """A bracket narrower than this factor on the axis is not split again (the CR jumps there)."""
        return 1.0 + self.tolerance / 4


@dataclass(frozen=True)
class Result:
    """One seed's answer at one point: test accuracy (fraction), compression ratio, status."""

    acc: float
    cr: float
    status: str = "ok"  # ok | diverged | collapsed | failed

    @property
    def broken(self) -> bool:
        return self.status != "ok" or not math.isfinite(self.cr)


@dataclass(frozen=True)
class Stats:
    x: float
    n: int  # seeds measured
    full: bool  # every seed of the spec
    cr: float  # median over the seeds measured
    acc: float  # median
    mean: float
    std: float | None  # sample std over the seeds (None below 2)
    broken: bool  # most seeds collapsed or diverged: the CR says nothing

    @property
    def logcr(self) -> float:
        return math.log(self.cr) if self.cr > 0 else -math.inf


@dataclass
class GroupState:
    """One method variant: its seeds, axis bounds and every measured point, shared by all its cells."""

    key: str
    axis: str  # "lam" | "compression"
    lo: float
    hi: float
    seeds: tuple[int, ...]
    params: float | None = None  # weights counted (the report's one-parameter level tolerance)
    results: dict[float, dict[int, Result]] = field(default_factory=dict)

    def record(self, x: float, seed: int, result: Result) -> None:
        self.results.setdefault(x, {})[seed] = result
        self._cache = None

    def raw(self, x: float) -> Stats | None:
        """A point's statistics over the seeds measured, as measured."""
        got = self.results.get(x, {})
        if not got:
            return None
        rs = [got[s] for s in sorted(got)]
        # A failed seed has no accuracy: left out of the accuracy statistics, as the report's medians skip it.
        accs = [r.acc for r in rs if not math.isnan(r.acc)] or [math.nan]
        return Stats(x, len(rs), all(s in got for s in self.seeds), statistics.median(r.cr for r in rs),
                     statistics.median(accs), statistics.fmean(accs),
                     statistics.stdev(accs) if len(accs) > 1 else None, 2 * sum(r.broken for r in rs) > len(rs))

    def offset_table(self) -> dict[float, tuple[float, float]]:
        """Per full unbroken point: (log CR, accuracy) of the median over seeds less the first seed's. The first
        seed's curve need not be the median's (LeNet-300-100, DWF D = 3: seed 0 keeps 10-20% more weights)."""
        out = {}
        for x, got in self.results.items():
            p, first = self.raw(x), got.get(self.seeds[0])
            if p.full and not p.broken and first is not None and not first.broken and first.cr > 0:
                out[x] = (p.logcr - math.log(first.cr), p.acc - first.acc)
        return out

    def offset_at(self, x: float, table: dict, exclude: float | None = None) -> tuple[float, float]:
        """The offset at x: linear in u between the nearest full points below and above x (one of them where
        there is one only; (0, 0) before any), `exclude` left out."""
        xs = [y for y in table if y != exclude]
        below = max((y for y in xs if y < x), default=None)
        above = min((y for y in xs if y > x), default=None)
        if below is None or above is None:
            near = below if above is None else above
            return table[near] if near is not None else (0.0, 0.0)
        w = (math.log(x) - math.log(below)) / (math.log(above) - math.log(below))
        return tuple(lo + w * (hi - lo) for lo, hi in zip(table[below], table[above]))

    def points(self) -> list[Stats]:
        """Every measured point, ascending on the axis; a point measured on the first seed alone is that seed
        corrected by `offset_at` (its best guess of the median)."""
        if getattr(self, "_cache", None) is None:
            table, pts = self.offset_table(), []
            for x in sorted(self.results):
                p = self.raw(x)
                if p.n == 1 and self.seeds[0] in self.results[x] and not p.broken:
                    dc, da = self.offset_at(x, table)
                    p = dataclasses.replace(p, cr=p.cr * math.exp(dc), acc=p.acc + da, mean=p.mean + da)
                pts.append(p)
            self._cache = pts
        return self._cache

    def stats(self, x: float) -> Stats | None:
        return next((p for p in self.points() if p.x == x), None)

    def reach_tol(self) -> float:
        """A level counts as reached within this much sparsity: one parameter, at least 1e-6 (the report's)."""
        return max(1e-6, 1.0 / self.params if self.params else 0.0) + 1e-9

    def missing(self, x: float) -> tuple[int, ...]:
        got = self.results.get(x, {})
        return tuple(s for s in self.seeds if s not in got)

    def acc_curve(self) -> Curve:
        """Median accuracy against u, non-increasing (isotonic), weighted by seeds measured."""
        pts = [p for p in self.points() if not math.isnan(p.acc)]
        return Curve([math.log(p.x) for p in pts], [p.acc for p in pts], [p.n for p in pts], increasing=False)

    def cr_curve(self) -> Curve:
        """Median log CR against u, non-decreasing (isotonic), over points whose CR means something."""
        if self.axis == "compression" and not self.results:
            return Curve([math.log(self.lo), math.log(self.hi)], [math.log(self.lo), math.log(self.hi)], [1, 1], True)
        pts = [p for p in self.points() if not p.broken and math.isfinite(p.logcr)]
        return Curve([math.log(p.x) for p in pts], [p.logcr for p in pts], [p.n for p in pts], increasing=True)

    def residuals(self) -> dict[float, float]:
        """Per full unbroken point: its median accuracy less the first seed's corrected by the offset its
        neighbours give (`offset_at` without the point itself): how far a one-seed guess would have been off."""
        table = self.offset_table()
        return {x: table[x][1] - self.offset_at(x, table, exclude=x)[1] for x in table}

    def first_seed_noise(self, x: float, k: float) -> float:
        """How far a one-seed guess of the median accuracy at x may be off: k x the larger of the robust spread
        of `residuals` (1.4826 x their median absolute value) and the largest residual of the nearest full points
        below and above x (seeds may disagree
        far more in one stretch than elsewhere: random pruning near CR 25, where one seed falls to 69% and the
        others keep 86%); 0 before any full point."""
        res = self.residuals()
        if not res:
            return 0.0
        spread = 1.4826 * statistics.median(abs(r) for r in res.values())  # robust: a collapse elsewhere
        # (seeds 20 points apart at GMP CR 800) says nothing about the noise at CR 150
        below = max((y for y in res if y <= x), default=None)
        above = min((y for y in res if y >= x), default=None)
        local = max((abs(res[y]) for y in (below, above) if y is not None), default=0.0)
        return k * max(spread, local)


def margin(rules: Rules, dense_std: float | None, noise: float) -> float:
    """The racing margin: the floor, noise_k x the dense seeds' accuracy std, or the group's first-seed
    noise (`GroupState.first_seed_noise`), whichever is largest."""
    return max(rules.noise_floor, rules.noise_k * (dense_std or 0.0), noise)


__all__ = ["GroupState", "Result", "Rules", "Stats", "margin"]
