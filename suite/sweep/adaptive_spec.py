"""The `adaptive:` key of a sweep spec -> `AdaptiveSettings` (validated).

    adaptive: {tolerance: 0.1, budget: 8, eps: [5, 10], levels: [10, 20, 50, 100, 200, 400, 800, 1000]}

The key makes `bench sweep NAME` adaptive, as `--adaptive` does (`true`: the
defaults below; `false`: a grid).

* tolerance: a cell is resolved when the compression ratio of its bracket's
  ends differs by at most this fraction (0.1 = 10 %).
* budget: candidate points (each run for every seed of the spec) one cell may
  visit, the coarse first point included.
* eps: the ε values of Table 1, in accuracy percentage points.
* levels: the Table 2 sparsity levels, written as compression ratios
  (total / nonzero; 10 = 90 % sparsity). `[]` searches Table 1 only.

Knows nothing of `suite.sweep.parsing` (which calls `parse_adaptive` and turns an
`AdaptiveSpecError` into its own `SpecError` naming the file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from suite.config import is_number
from suite.grid import TABLE1_EPS as DEFAULT_EPS
from suite.grid import TABLE2_LEVELS as DEFAULT_LEVELS

KEYS = ("tolerance", "budget", "eps", "levels")
DEFAULT_TOLERANCE = 0.1
# Each point halves a cell's log-axis bracket; from the 5 decades of a DWF λ grid, 8 points
# narrow it to a factor 1.05 in λ, which resolves the compression ratio to the 10 % tolerance
# where CR grows about linearly in λ (LeNet-300-100 at its ε boundaries). 6 points left a
# factor 1.2, and the reference run's cells ended on the budget instead.
DEFAULT_BUDGET = 8


class AdaptiveSpecError(ValueError):
    """A value of the `adaptive` key is not allowed; `key`, `problem` and `allowed` say which and why."""

    def __init__(self, key: str, problem: str, allowed: str):
        super().__init__(f"key {key!r}: {problem}; allowed: {allowed}")
        self.key, self.problem, self.allowed = key, problem, allowed


@dataclass(frozen=True)
class AdaptiveSettings:
    tolerance: float = DEFAULT_TOLERANCE
    budget: int = DEFAULT_BUDGET
    eps: tuple[float, ...] = DEFAULT_EPS
    levels: tuple[float, ...] = DEFAULT_LEVELS  # compression ratios

    @property
    def sparsities(self) -> tuple[float, ...]:
        """The levels as the sparsities Table 2 is written in (10 -> 0.9)."""
        return tuple(1.0 - 1.0 / c for c in self.levels)

    def describe(self) -> dict:
        return {"tolerance": self.tolerance, "budget": self.budget, "eps": list(self.eps), "levels": list(self.levels)}


def _numbers(value: Any, key: str, ok, allowed: str, allow_empty: bool) -> tuple[float, ...]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise AdaptiveSpecError(key, f"must be a list, got {value!r}",
                                f"a{'' if allow_empty else ' non-empty'} list of {allowed}")
    for i, v in enumerate(value):
        if not (is_number(v) and ok(v)):
            raise AdaptiveSpecError(f"{key}[{i}]", f"value {v!r} is out of range", allowed)
    if len(set(value)) != len(value):
        raise AdaptiveSpecError(key, f"duplicate values in {value}", f"distinct {allowed}")
    return tuple(sorted(float(v) for v in value))


def parse_adaptive(value: Any, key: str = "adaptive") -> AdaptiveSettings | None:
    """`adaptive: true | {...}` -> settings (the sweep is adaptive), `false` -> None (a grid);
    raises AdaptiveSpecError naming the key."""
    if value is False:
        return None
    if value is True or value is None:
        return AdaptiveSettings()
    if not isinstance(value, dict):
        raise AdaptiveSpecError(key, f"must be true, false or a mapping, got {value!r}",
                                "true, false, or a mapping of " + ", ".join(KEYS))
    unknown = sorted(str(k) for k in value if k not in KEYS)
    if unknown:
        raise AdaptiveSpecError(f"{key}.{unknown[0]}", "unknown key", ", ".join(KEYS))
    out: dict[str, Any] = {}
    if "tolerance" in value:
        tol = value["tolerance"]
        if not (is_number(tol) and 0 < tol < 10):
            raise AdaptiveSpecError(f"{key}.tolerance", f"value {tol!r} is out of range",
                                    "a number in (0, 10), a fraction of the compression ratio (0.1 = 10%)")
        out["tolerance"] = float(tol)
    if "budget" in value:
        budget = value["budget"]
        if not (isinstance(budget, int) and not isinstance(budget, bool) and budget >= 1):
            raise AdaptiveSpecError(f"{key}.budget", f"value {budget!r} is out of range",
                                    "an integer >= 1 (candidate points per cell)")
        out["budget"] = budget
    if "eps" in value:
        out["eps"] = _numbers(value["eps"], f"{key}.eps", lambda v: 0 < v <= 100,
                              "numbers in (0, 100] (accuracy percentage points)", allow_empty=True)
    if "levels" in value:
        out["levels"] = _numbers(value["levels"], f"{key}.levels", lambda v: v > 1,
                                 "compression ratios > 1 (10 = 90% sparsity)", allow_empty=True)
    settings = AdaptiveSettings(**out)
    if not settings.eps and not settings.levels:
        raise AdaptiveSpecError(key, "both eps and levels are empty: nothing to search",
                                "at least one ε or one level")
    return settings


__all__ = ["AdaptiveSettings", "AdaptiveSpecError", "DEFAULT_BUDGET", "DEFAULT_LEVELS", "DEFAULT_TOLERANCE",
           "parse_adaptive"]
