"""The shared search as the store leaves it, replayed into a `SharedPlan` as a run's resume does (no Ray;
writes nothing): `bench sweep NAME --adaptive --search shared --dry-run` prints it, `bench report NAME
--search shared` lists its cells in the index and searches.csv and shows its level estimates in Table 2."""

from __future__ import annotations

from suite.analysis.estimates import LevelEstimate
from suite.methods.labels import method_label
from suite.run.search.driving import store_lookup
from suite.run.plan import SweepPlan
from suite.run.search.shared.cells import Cell
from suite.run.search.shared.driving import SharedPlan


def replayed(plan: SweepPlan, level_rule: str = "interpolated") -> tuple[SharedPlan, set[str]]:
    """The shared search over the sweep's trials, fed the store; and the hashes of trials whose `auto` lr is
    not searched yet (planned with a stand-in lr: the store answers nothing for them)."""
    spec = plan.spec
    trials = plan.listed()
    unknown = {cfg.config_hash for cfg in trials} - {cfg.config_hash for cfg in plan.trials}
    shared = SharedPlan(trials, spec.adaptive_settings, level_rule=level_rule)
    stored = store_lookup(plan.results, spec.name)
    shared.advance(lambda cfg: None if cfg.config_hash in unknown else stored(cfg))
    return shared, unknown


def preview_shared(plan: SweepPlan, level_rule: str = "interpolated") -> list[str]:
    """Plain text: the rule's settings, one line per cell (where the stored trials leave it), the bound."""
    shared, _ = replayed(plan, level_rule)
    r, s = shared.rules, plan.spec.adaptive_settings
    lines = [f"shared search {plan.spec.name}: {len(shared.cells)} cell(s) in {len(shared.search.groups)} group(s); "
             f"new points on seed {shared.search.seeds[0]} first; tolerance {100 * r.tolerance:g}%, at most "
             f"{r.budget} proposal(s) per cell; ε {', '.join(f'{e:g}' for e in s.eps) or '-'}; levels (CR) "
             f"{', '.join(f'{c:g}' for c in s.levels) or '-'} ({r.level_rule})"]
    lines += [f"search {shared.cell_line(i)}" for i in range(len(shared.cells))]
    lines.append(f"shared search: {len(shared.reused)} trial(s) in the store, at most {shared.remaining_bound()} "
                 f"more, against the full grid's {shared.grid_trials}")
    return lines


def where(shared: SharedPlan, index: int) -> str:
    """The cell's line, and for an estimate the interval and the two configurations it rests on."""
    cell: Cell = shared.cells[index]
    line = shared.cell_line(index)
    if cell.status == "estimated" and cell.interval is not None:
        name = "λ" if shared.search.groups[cell.group].axis == "lam" else "target"
        low, high = cell.interval
        line += (f" · estimate in [{100 * low:.2f}, {100 * high:.2f}]% between {name} {cell.bracket[0]:.3g} and "
                 f"{cell.bracket[1]:.3g} (every seed)")
    return line


def records(shared: SharedPlan, unknown: set[str]) -> list[dict]:
    """One record per cell with the report's search columns (suite.analysis.writing.SEARCH_COLUMNS)."""
    out = []
    for index, cell in enumerate(shared.cells):
        base = shared.bases[cell.group]
        on_path = {cfg.config_hash for x in dict.fromkeys(cell.path) for cfg in base.configs(x)}
        out.append({"search": cell.title, "method": base.bases[0].method, "depth": base.bases[0].depth,
                    "cell": cell.name, "axis": base.axis, "status": cell.status,
                    "settled": cell.status != "running", "trials_stored": len(on_path & shared.reused),
                    "lr_searched": not any(b.config_hash in unknown for b in base.bases),
                    "where": where(shared, index)})
    return out


def estimates(shared: SharedPlan) -> list[LevelEstimate]:
    """Every level cell stopped as "estimated", as the report's Table 2 places it: its section and method
    label, the estimate, its interval and the bracket's two ends (axis values and median CRs)."""
    out = []
    for cell in shared.cells:
        if cell.kind != "level" or cell.status != "estimated" or cell.interval is None or cell.result is None:
            continue
        g, cfg = shared.search.groups[cell.group], shared.bases[cell.group].bases[0]
        a, b = (g.stats(x) for x in cell.bracket)
        if a is None or b is None:  # never, for an estimate: both ends are measured on every seed
            continue
        out.append(LevelEstimate(cfg.model, cfg.dataset, method_label(cfg.method, cfg.depth), cell.value,
                                 cell.result, *cell.interval, g.axis, a.x, b.x, a.cr, b.cr, cell.basis or ""))
    return out


def shared_report(plan: SweepPlan, level_rule: str = "interpolated") -> tuple[list[dict], list[LevelEstimate]]:
    """What `bench report --search shared` takes from one replay: the records of every cell (searches.csv,
    the index) and the estimated level cells (Table 2, paper.md)."""
    shared, unknown = replayed(plan, level_rule)
    return records(shared, unknown), estimates(shared)


def shared_records(plan: SweepPlan, level_rule: str = "interpolated") -> list[dict]:
    """One record per cell with the report's search columns (suite.analysis.writing.SEARCH_COLUMNS)."""
    return records(*replayed(plan, level_rule))


__all__ = ["estimates", "preview_shared", "records", "replayed", "shared_records", "shared_report", "where"]
