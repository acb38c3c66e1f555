"""The pieces of an adaptive search: a `Group` (one method variant whose seeds are searched along
one axis) and its `Cell`s (one Table 1 / Table 2 target each). Data only; the rules that move a
cell's bracket are `suite.run.search.bisect.plan.AdaptivePlan`'s."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import pandas as pd

from suite.config import TrialConfig
from suite.builtins import METHODS

Rows = list[dict]
Lookup = Callable[[TrialConfig], "Rows | None"]


def snap(x: float) -> float:
    """An axis value to 3 significant digits, so a point's config hash is stable."""
    return float(f"{x:.3g}")


def axis_of(method: str) -> str | None:
    """"lam", "compression" or None (no axis: the trial just runs, e.g. dense)."""
    m = METHODS.get(method)
    if "lam" in m.requires:
        return "lam"
    return "compression" if m.needs_targets else None


def levels_of(group, levels) -> list[float]:
    """The Table 2 levels `group` (a `GroupState` or a bisection `Group`: anything with axis, lo and hi) has
    cells for: every level on a λ axis, where some λ reaches any compression; on a compression axis only
    those inside the group's target range, since a pruning method is never asked for more or less."""
    return [float(c) for c in levels if group.axis == "lam" or group.lo <= c <= group.hi]


@dataclass
class Group:
    """One method variant: a config per seed, differing only in the searched axis."""

    key: str
    axis: str
    lo: float
    hi: float
    bases: tuple[TrialConfig, ...]  # one per seed
    results: dict[float, dict[int, Rows]] = field(default_factory=dict)  # x -> seed -> primary rows

    def configs(self, x: float) -> list[TrialConfig]:
        change = {"lam": x} if self.axis == "lam" else {"compressions": (x,)}
        return [dataclasses.replace(base, **change) for base in self.bases]

    def judged(self, x: float) -> bool:
        return len(self.results.get(x, {})) == len(self.bases)

    def rows(self, xs: Iterable[float]) -> pd.DataFrame:
        return pd.DataFrame([r for x in xs for rows in self.results.get(x, {}).values() for r in rows])

    def diverged(self, x: float) -> bool:
        """Most seeds' loss went non-finite at x (as the median sees it): its compression ratio says nothing."""
        runs = self.results.get(x, {}).values()
        return 2 * sum(any(r.get("status") == "diverged" for r in rows) for rows in runs) > len(self.bases)

    def x_of(self, value: float) -> float | None:
        """The visited axis value a table's cell choice names (`CellChoice.axis_value`)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return next((x for x in self.results if math.isclose(x, float(value), rel_tol=1e-9)), None)


@dataclass
class Cell:
    group: Group
    kind: str  # "eps" | "level"
    value: float  # ε in points, or the level as a compression ratio
    path: list[float] = field(default_factory=list)
    status: str = "running"  # running | resolved | axis | budget | none | bound | failed
    bracket: tuple = (None, None)  # (lower x, upper x); None = the unevaluated grid bound
    cell_x: float | None = None

    @property
    def name(self) -> str:
        """"ε=5" (a Table 1 cell) or "CR≥100" (a Table 2 level, as a compression ratio)."""
        return f"ε={self.value:g}" if self.kind == "eps" else f"CR≥{self.value:g}"

    @property
    def title(self) -> str:
        return f"{self.group.key} {self.name}"


def primary_rows(cfg: TrialConfig, rows: Rows, axis: str | None) -> Rows:
    """The rows a cell is judged on: the target's row (compression axis) or the final one."""
    if axis == "compression":
        mine = [r for r in rows if r.get("target_compression") is not None
                and math.isclose(float(r["target_compression"]), cfg.compressions[0], rel_tol=1e-9)]
        if mine:
            return mine
    final = [r for r in rows if r.get("point", "final") == "final"]
    return final or list(rows[:1])


__all__ = ["Cell", "Group", "Lookup", "Rows", "axis_of", "levels_of", "primary_rows", "snap"]
