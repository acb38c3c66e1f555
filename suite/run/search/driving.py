"""Driving an `AdaptivePlan` without Ray: the store as a lookup, a serial driver, progress text.

`suite.run.ray.searchers.AdaptiveSearcher` (the Ray Tune adapter) uses these; tests use
`run_serial` with a stub trial function.
"""

from __future__ import annotations


from suite.run.search.bisect.plan import AdaptivePlan, Cell, Lookup, Rows
from suite.results.store import load_table, stored_rows
from suite.run.search.shared.plan import run_serial  # one serial driver for both searches


def store_lookup(results: str, sweep: str) -> Lookup:
    """Rows of the trials already in the store (read once): resuming feeds them without training."""
    table = load_table(results, sweep)
    by_hash: dict[str, Rows] = {}
    for row in table.to_dict("records"):
        by_hash.setdefault(row["config_hash"], []).append(row)
    return lambda cfg: by_hash.get(cfg.config_hash)


def trial_rows(results: str, sweep: str, config_hash: str) -> Rows | None:
    """One finished trial's rows from the store, checked as every reader checks them (None if it left none,
    e.g. it failed, or what it left does not count)."""
    return stored_rows(results, sweep, config_hash)


def _info(cell: Cell) -> dict:
    """One cell's bracket (axis values; None = the unevaluated grid bound), cell, points, trials, status."""
    return {"cell": cell.title, "status": cell.status, "lower": cell.bracket[0], "upper": cell.bracket[1],
            "cell_x": cell.cell_x, "points": len(cell.path), "trials": len(cell.path) * len(cell.group.bases)}


def progress(plan: AdaptivePlan) -> list[dict]:
    """Every cell's `_info`, in the plan's order."""
    return [_info(c) for c in plan.cells]


def _end(value: float | None, bound: float) -> str:
    if value is None:
        return f"({bound:.3g})"  # the grid bound, not evaluated
    return f"{value:.3g}"


def _where(cell: Cell, info: dict) -> str:
    group = cell.group
    name = "λ" if group.axis == "lam" else "target CR"
    bracket = f"{name} [{_end(info['lower'], group.lo)}, {_end(info['upper'], group.hi)}]"
    found = "" if info["cell_x"] is None else f" · cell {info['cell_x']:.3g}"
    return f"{cell.title}: {bracket}{found}"


def cell_where(plan: AdaptivePlan, index: int) -> str:
    """'dwf D=3 ε=5: λ [1e-05, 3.16e-05] · cell 1e-05': the search's bracket and its cell so far."""
    cell = plan.cells[index]
    return _where(cell, _info(cell))


def cell_line(plan: AdaptivePlan, index: int) -> str:
    """'dwf D=3 ε=5: λ [1e-05, 3.16e-05] · 3 point(s), 9 trial(s) · running' (the points it has asked for,
    trained or under way)."""
    cell = plan.cells[index]
    info = _info(cell)
    return f"{_where(cell, info)} · {info['points']} point(s), {info['trials']} trial(s) · {info['status']}"


def summary_lines(plan: AdaptivePlan) -> list[str]:
    """Every cell's final line, then the trials used against the full grid's count."""
    lines = [cell_line(plan, i) for i in range(len(plan.cells))]
    used, grid = len(plan.used), plan.grid_trials
    if grid and used > grid:  # the searches placed values between a coarse grid's points: no share over 100%
        lines.append(f"adaptive: {used} trial(s) used, more than the full grid's {grid} (the searches add values "
                     "between its points)")
    else:
        share = f" ({100 * used / grid:.0f}%)" if grid else ""
        lines.append(f"adaptive: {used} trial(s) used{share} of the full grid's {grid}")
    return lines


def cell_budget(plan: AdaptivePlan, cell: Cell) -> int:
    """At most this many trials for one cell: its budget of points for every seed. (A level on the
    compression axis usually takes one point, its target; it searches on only when the target misses it.)"""
    return plan.settings.budget * len(cell.group.bases)


def _starts_at_midpoint(cell: Cell) -> bool:
    """Every cell but a level on the compression axis (which starts at its own target) starts at the
    midpoint of its group's grid bounds."""
    return cell.kind == "eps" or cell.group.axis == "lam"


def budget_bound(plan: AdaptivePlan) -> int:
    """At most this many trials: the fixed ones plus every cell's budget, the first point that the cells
    of one group share counted once."""
    bound = len(plan.fixed) + sum(cell_budget(plan, cell) for cell in plan.cells)
    for group in plan.groups:
        sharing = sum(_starts_at_midpoint(cell) for cell in plan.cells if cell.group is group)
        bound -= max(sharing - 1, 0) * len(group.bases)
    return bound


def remaining_bound(plan: AdaptivePlan) -> int:
    """At most this many trials are still to come, the queued and running ones included: the
    smaller of two bounds, the whole search's (`budget_bound`) less the trials it has used, and
    the queue plus every running cell's unspent budget for every seed (the second shrinks as
    cells resolve). The progress line shows it as the bound it is."""
    unspent = sum(max(plan.settings.budget - len(cell.path), 0) * len(cell.group.bases)
                  for cell in plan.cells if cell.status == "running")
    return max(0, min(budget_bound(plan) - len(plan.used), len(plan.pending) + unspent))


def cells_settled(plan) -> str:
    """'12 of 56 cells settled': an adaptive plan's (bisection's or the shared search's) cells that no longer
    run, for the progress line beside its worst-case bound."""
    settled = sum(cell.status != "running" for cell in plan.cells)
    return f"{settled} of {len(plan.cells)} cells settled"


__all__ = ["budget_bound", "cell_budget", "cell_line", "cell_where", "cells_settled", "progress", "remaining_bound",
           "run_serial", "store_lookup", "summary_lines", "trial_rows"]
