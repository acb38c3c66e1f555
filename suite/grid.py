"""Grid values shared by the sweep specs and the methods, rounded once so that
the same target or λ hashes and tabulates the same everywhere."""

from __future__ import annotations

import math
from typing import Sequence

SIG_DIGITS = 6

# The compression ratios of Table 2's sparsity levels (90, 95, 98, 99, 99.5,
# 99.75, 99.875, 99.9 %).
TABLE2_LEVELS: tuple[float, ...] = (10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0)
# The same levels as sparsities (1 - 1/CR), the columns of Table 2.
TABLE2_SPARSITIES: tuple[float, ...] = tuple(round(1.0 - 1.0 / cr, 6) for cr in TABLE2_LEVELS)
# Table 1's accuracy tolerances ε, in percentage points below the dense accuracy.
TABLE1_EPS: tuple[float, ...] = (5.0, 10.0)


def round_sig(value: float, digits: int = SIG_DIGITS) -> float:
    """`value` to `digits` significant digits (so logspace grids hash the same everywhere)."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def logspace(lo: float, hi: float, n: int) -> list[float]:
    if n == 1:
        return [round_sig(lo)]
    a, b = math.log10(lo), math.log10(hi)
    return [round_sig(10 ** (a + (b - a) * i / (n - 1))) for i in range(n)]


def linspace(lo: float, hi: float, n: int) -> list[float]:
    if n == 1:
        return [round_sig(lo)]
    return [round_sig(lo + (hi - lo) * i / (n - 1)) for i in range(n)]


# The paper trains its pruning baselines on 15 log-spaced ratios in [10, 1e5]
# (App. G.2); Table 2 reads them at its own levels, so both are trained.
PAPER_TARGETS: tuple[float, ...] = tuple(logspace(10, 1e5, 15))
PRUNING_TARGETS: tuple[float, ...] = tuple(sorted(set(PAPER_TARGETS) | set(TABLE2_LEVELS)))


def cap_grid(values: Sequence[float], n: int) -> list[float]:
    """At most `n` of `values`, spread evenly over the sorted grid, endpoints kept."""
    ordered = sorted(values)
    if n >= len(ordered):
        return list(ordered)
    if n == 1:
        return [ordered[(len(ordered) - 1) // 2]]
    picks = sorted({round(i * (len(ordered) - 1) / (n - 1)) for i in range(n)})
    return [ordered[i] for i in picks]
