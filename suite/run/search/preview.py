"""`bench sweep NAME --adaptive --search shared --dry-run`: the shared search's cells as the store leaves them.
No Ray; writes nothing. The store is replayed into a `SharedPlan` as a run's resume does."""

from __future__ import annotations

from suite.run.adaptive_results import store_lookup
from suite.run.plan import SweepPlan
from suite.run.search.driving import SharedPlan
from suite.sweep.expansion import expand


def preview_shared(plan: SweepPlan, level_rule: str = "interpolated") -> list[str]:
    """Plain text: the rule's settings, one line per cell (where the stored trials leave it), the bound."""
    spec = plan.spec
    trials = expand(spec, {k: v["lr"] for k, v in plan.chosen.items()}, placeholder_lr=True)
    shared = SharedPlan(trials, spec.adaptive_settings, level_rule=level_rule)
    shared.advance(store_lookup(plan.results, spec.name))
    r, s = shared.rules, spec.adaptive_settings
    lines = [f"shared search {spec.name}: {len(shared.cells)} cell(s) in {len(shared.search.groups)} group(s); "
             f"new points on seed {shared.search.seeds[0]} first; tolerance {100 * r.tolerance:g}%, at most "
             f"{r.budget} proposal(s) per cell; ε {', '.join(f'{e:g}' for e in s.eps) or '-'}; levels (CR) "
             f"{', '.join(f'{c:g}' for c in s.levels) or '-'} ({r.level_rule})"]
    lines += [f"search {shared.cell_line(i)}" for i in range(len(shared.cells))]
    lines.append(f"shared search: {len(shared.reused)} trial(s) in the store, at most {shared.remaining_bound()} "
                 f"more, against the full grid's {shared.grid_trials}")
    return lines


__all__ = ["preview_shared"]
