"""`bench sweep NAME --adaptive --dry-run`: the adaptive searches a run would make. No Ray; writes nothing.

The searches are those of the `AdaptivePlan` the run builds over the sweep's trials. The store is
replayed into it as a run's resume does, so each search shows the stored trials it will reuse and
whether they already settle it. A run also adopts the lr-search trials that are grid trials before it
searches (`suite.run.lr.records.adopt_search_trials`); the preview reads them where they are instead.

Trials whose `auto` learning rate is not searched yet are planned with a stand-in lr, as the grid's
dry run counts them: their searches are listed, but which stored trials they will reuse is known only
once the lr is chosen, so none are counted for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite.config import TrialConfig
from suite.run.search.bisect.plan import AdaptivePlan, Lookup
from suite.run.search.driving import budget_bound, cell_budget, cell_where, store_lookup
from suite.run.plan import SweepPlan
from suite.sweep.adaptive_spec import AdaptiveSettings


@dataclass(frozen=True)
class SearchPreview:
    """One search: one Table 1 / Table 2 cell of one method variant."""

    title: str  # "dwf D=3 ε=5", as the run's progress names it
    method: str
    depth: int | None
    cell: str  # "ε=5" or "CR≥100"
    axis: str  # "lam" or "compression"
    bracket: tuple[float, float]  # where it starts: the grid's smallest and largest value on the axis
    reused: int  # its trials the store already holds
    budget: int  # at most this many trials: the spec's `adaptive: budget` points for every seed
    status: str  # "running" (it trains), or how the stored trials alone settle it ("resolved", ...)
    lr_pending: bool  # its lr is `auto` and not searched yet
    where: str  # its bracket and cell so far, from the stored trials ('dwf D=3 ε=5: λ [..] · cell ..')


@dataclass(frozen=True)
class AdaptivePreview:
    sweep: str
    settings: AdaptiveSettings
    seeds: int
    searches: list[SearchPreview]
    fixed: dict[str, tuple[int, int]]  # method run as in the grid (dense) -> (trials, in the store)
    reused: int  # distinct trials the store answers, searches and fixed trials together
    at_most: int  # trials the search uses at most, reused ones included
    grid_trials: int  # the full grid's count

    def records(self) -> list[dict]:
        """One record per search, for the report's searches.csv and index: settled or not ("running":
        a resumed run still trains for it, so its cell can still move), and where it stands."""
        return [{"search": s.title, "method": s.method, "depth": s.depth, "cell": s.cell, "axis": s.axis,
                 "status": s.status, "settled": s.status != "running", "trials_stored": s.reused,
                 "lr_searched": not s.lr_pending, "where": s.where} for s in self.searches]


def _stored(plan: SweepPlan, adaptive: AdaptivePlan, unknown: set[str]) -> Lookup:
    """The sweep's stored rows (and the adoptable lr-search trials), never for a stand-in-lr trial."""
    own = store_lookup(plan.results, plan.spec.name)
    searched = store_lookup(plan.results, f"{plan.spec.name}/lr_search") if plan.searches else None
    grid = {cfg.config_hash for cfg in plan.trials}
    unknown_groups = {id(g) for g in adaptive.groups if any(b.config_hash in unknown for b in g.bases)}

    def lookup(cfg: TrialConfig):
        h = cfg.config_hash
        where = adaptive.where.get(h)  # set before the plan asks: the group a search point belongs to
        if h in unknown or (where is not None and id(where[0]) in unknown_groups):
            return None
        rows = own(cfg)
        if rows is None and searched is not None and h in grid:
            rows = searched(cfg)
        return rows

    return lookup


def preview_adaptive(plan: SweepPlan) -> AdaptivePreview:
    """What `run_adaptive` would search for this plan, replayed on the store; trains and writes nothing.

    Raises ValueError when ε cells are asked for and the sweep has no dense trials."""
    spec = plan.spec
    known = {cfg.config_hash for cfg in plan.trials}
    trials = plan.listed()
    unknown = {cfg.config_hash for cfg in trials} - known
    adaptive = AdaptivePlan(trials, spec.adaptive_settings)
    adaptive.advance(_stored(plan, adaptive, unknown))
    searches = []
    for index, cell in enumerate(adaptive.cells):
        group, base = cell.group, cell.group.bases[0]
        on_path = {cfg.config_hash for x in cell.path for cfg in group.configs(x)}
        searches.append(SearchPreview(
            title=cell.title, method=base.method, depth=base.depth, cell=cell.name, axis=group.axis,
            bracket=(group.lo, group.hi), reused=len(on_path & adaptive.reused), budget=cell_budget(adaptive, cell),
            status=cell.status, lr_pending=any(b.config_hash in unknown for b in group.bases),
            where=cell_where(adaptive, index)))
    fixed: dict[str, tuple[int, int]] = {}
    for h, cfg in adaptive.fixed.items():
        count, stored = fixed.get(cfg.method, (0, 0))
        fixed[cfg.method] = (count + 1, stored + (h in adaptive.reused))
    return AdaptivePreview(spec.name, adaptive.settings, len(spec.seeds), searches, fixed, len(adaptive.reused),
                           budget_bound(adaptive), len(trials))


def _axis(search: SearchPreview) -> str:
    lo, hi = search.bracket
    return f"{'λ' if search.axis == 'lam' else 'target CR'} in [{lo:.3g}, {hi:.3g}]"


def preview_lines(preview: AdaptivePreview) -> list[str]:
    """Plain text (no markup): the settings, one line per search, the fixed trials, the total."""
    s = preview.settings
    lines = [f"adaptive sweep {preview.sweep}: {len(preview.searches)} search(es), {preview.seeds} seed(s) per "
             f"point; tolerance {100 * s.tolerance:g}% on the compression ratio, at most {s.budget} point(s) per "
             f"search; ε {', '.join(f'{e:g}' for e in s.eps) or '-'}; "
             f"levels (CR) {', '.join(f'{c:g}' for c in s.levels) or '-'}"]
    for search in preview.searches:
        line = f"search {search.title}: {_axis(search)} · at most {search.budget} trial(s)"
        if search.lr_pending:
            line += " · lr auto: searched first, stored trials known then"
        else:
            line += f" · {search.reused} in the store"
            if search.status != "running":
                line += f" · settled by them: {search.status}"
        lines.append(line)
    for method, (count, stored) in preview.fixed.items():
        lines.append(f"{method}: {count} trial(s) as in the grid (not searched) · {stored} in the store")
    lines.append(f"adaptive: at most {preview.at_most} trial(s) ({preview.reused} already in the store) against "
                 f"the full grid's {preview.grid_trials}")
    return lines


__all__ = ["AdaptivePreview", "SearchPreview", "preview_adaptive", "preview_lines"]
