"""What `bench sweep` prints: the plan of a dry run, and the summary of a finished run. No Ray.

Lines are rich markup (anything that comes from a file or an error is escaped).
"""

from __future__ import annotations

import shlex
from typing import Sequence

from rich.markup import escape
from rich.table import Table

from suite.run.outcome import SweepOutcome
from suite.run.plan import SweepPlan
from suite.run.progress import format_duration
from suite.run.guard.store import consequence


def damaged_lines(plan: SweepPlan) -> list[str]:
    """One line per damaged file a run would move aside, with what that costs."""
    return [f"[yellow]damaged[/]: {escape(d.describe(plan.results))}; a run moves it aside and "
            f"{escape(consequence(d).replace('will be', 'is'))}" for d in plan.damaged]


def data_lines(plan: SweepPlan) -> list[str]:
    """Which data the plan trains on, and the stored trials it does not reuse because they trained on other data."""
    pinned = dict(plan.spec.train).get("data_fingerprint")
    lines = [f"data: {plan.spec.dataset} {pinned or '(not pinned)'}"]
    if plan.other_data:
        which = ", ".join(f"{fp}: {n}" for fp, n in sorted(plan.other_data.items()))
        lines.append(f"[yellow]{sum(plan.other_data.values())} stored trial(s) of these configurations were "
                     f"trained on other data[/] ({escape(which)}): they stay in the store, are not reused, and "
                     "train again on this data")
    return lines


def plan_table(plan: SweepPlan) -> Table:
    """Trials, done and to run per method (trials waiting for an lr search count as to run)."""
    spec = plan.spec
    table = Table(title=f"sweep {spec.name} ({spec.model} on {spec.dataset}, {len(spec.seeds)} seed(s))")
    for col in ("method", "trials", "done", "to run"):
        table.add_column(col, justify="right" if col != "method" else "left")
    total = done = 0
    for method, n_trials, n_done in plan.per_method():
        table.add_row(method, str(n_trials), str(n_done), str(n_trials - n_done))
        total, done = total + n_trials, done + n_done
    table.add_row("[bold]total", str(total), str(done), str(total - done))
    return table


def lr_lines(plan: SweepPlan) -> list[str]:
    """Each `auto` learning rate, in the spec's order: chosen earlier, or searched first."""
    settings = plan.spec.lr_search
    lines = []
    for search in plan.searches:
        if search.key in plan.chosen:
            lines.append(f"lr {search.label}: {plan.chosen[search.key]['lr']:g} (searched earlier, {search.key})")
        else:
            lines.append(f"lr {search.label}: auto -> Optuna search first ({settings.budget} trials at "
                         f"λ={settings.lam:g}); the trials above then use the chosen lr")
    return lines


def summary_lines(outcome: SweepOutcome, report_flags: Sequence[str] = ()) -> list[str]:
    """The summary of a run: counts, times, chosen lrs, failures, damaged files, what to do next (the report
    command, with `report_flags`: what the report needs to read the sweep as it ran)."""
    ran = [r for r in outcome.records if r.status != "reused"]
    reused = len(outcome.records) - len(ran)
    n_ok, n_empty, n_div = (sum(r.status == s for r in ran) for s in ("ok", "collapsed", "diverged"))
    failed = outcome.failed
    where = f"{outcome.results}/{outcome.sweep}"
    lines = [f"[bold]sweep {outcome.sweep}[/]: {outcome.total} trial(s) · {len(ran)} ran now ({n_ok} ok, {n_empty} "
             f"collapsed, {n_div} diverged, {len(failed)} failed) · {outcome.already_done} already in the store"
             + (f" · {reused} found stored when their turn came (not trained again)" if reused else "")]
    if outcome.ray_started:
        busy = sum(r.seconds for r in ran)
        eff = busy / (outcome.grid_wall_s * outcome.concurrency) if outcome.grid_wall_s and outcome.concurrency else 0
        lines.append(f"time: {format_duration(outcome.wall_s)} wall (Ray start {outcome.ray_start_s:.1f}s"
                     + (f", lr search {format_duration(outcome.search_wall_s)}" if outcome.search_wall_s else "")
                     + f", grid {format_duration(outcome.grid_wall_s)}); {outcome.concurrency} trial(s) at a time; "
                     f"trials busy {100 * eff:.0f}% of the slots")
    for key, choice in outcome.lrs.items():
        lines.append(f"lr {choice.get('method')} D={choice.get('depth')}: {choice['lr']:g} (test acc "
                     f"{100 * choice['test_acc']:.2f}% at λ={choice['lam']:g}; {len(choice['trials'])} search "
                     f"trial(s); {where}/lr_search/{key}.json)")
    for key in outcome.failed_searches:
        lines.append(f"[red]lr search {key} failed[/]: every search trial failed; its trials did not run "
                     f"({outcome.blocked} blocked)")
    if failed:
        lines.append(f"[bold red]{len(failed)} failed trial(s):[/]")
        for record in failed:
            error = (record.error or "").strip().splitlines()[0][:300] if record.error else "?"
            lines.append(f"  [red]✗[/] {record.config_hash}  {escape(record.label)}: {escape(error)}")
        lines.append(f"tracebacks: {where}/failed/<config_hash>.json; re-run the same command to retry only what "
                     f"is missing")
    if outcome.damaged:  # what follows differs by file: a rows file's trial trains again, a side table does not
        lines.append(f"{len(outcome.damaged)} damaged file(s) moved aside before the run (kept under "
                     f"{where}/damaged/):")
        lines += [f"  {escape(d.relpath)}: {escape(consequence(d).replace('will be', 'is'))}" for d in outcome.damaged]
    if outcome.error and outcome.lock_lost:
        lines.append(f"[bold red]stopped[/]: {escape(outcome.error)}")
    elif outcome.error:
        lines.append(f"[bold red]stopped[/]: {escape(outcome.error)}; finished trials are in the store, re-run "
                     f"the same command once the store is writable")
    if outcome.interrupted:
        lines.append("[yellow]interrupted[/]: finished trials are in the store; re-run the same command to "
                     "finish the sweep (nothing finished is retrained)")
    if outcome.adaptive is not None:  # the adaptive code (and the report code it judges by) only when used
        from suite.run.search.driving import summary_lines as adaptive_lines

        own = getattr(outcome.adaptive, "summary_lines", None)  # the shared search words its own
        lines += [escape(line) for line in (own() if own is not None else adaptive_lines(outcome.adaptive))]
    report = shlex.join(["bench", "report", outcome.sweep, "--results", outcome.results, *report_flags])
    lines.append(f"results: {where}  ->  {escape(report)}")
    return lines


__all__ = ["damaged_lines", "data_lines", "lr_lines", "plan_table", "summary_lines"]
