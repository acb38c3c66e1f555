"""The `bench` command: the typer app with every command registered (`bench list`, `bench report`
here; `bench run` in suite.cli.run; `bench sweep` in suite.cli.sweep, `bench submit` in suite.cli.submit)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from suite.cli import run, submit, sweep  # noqa: F401 - each registers its commands on `app`
from suite.cli.sweep import parse_names
from suite.cli.app import app, console, fail
from suite.config import FIELDS
from suite.grid import TABLE1_EPS
from suite.paths import DEFAULT_REPORTS, DEFAULT_RESULTS

def catalog() -> dict[str, list[dict]]:
    """What `bench list` shows, as data: the registered models (with parameter counts), datasets and methods."""
    from suite.core.data import DATASETS
    from suite.core.models import MODELS, build_model
    from suite.methods import METHODS

    models = []
    for name, spec in sorted(MODELS.items()):
        natural = DATASETS.get(spec.natural_dataset)  # counted on the dataset it was designed for
        params = sum(p.numel() for p in build_model(name, natural.num_classes, natural.input_shape).parameters())
        models.append({"name": name, "parameters": params, "on": spec.natural_dataset, "description": spec.description})
    # Named as a spec or `bench run` sets it: one target per `compression`.
    targets = FIELDS["compressions"].singular
    datasets = [{"name": name, "description": spec.description} for name, spec in sorted(DATASETS.items())]
    methods = [{"name": m.name,
                "needs": sorted(m.requires) + ([targets] if m.needs_targets else []),
                "description": m.description} for m in METHODS.values()]
    return {"models": models, "datasets": datasets, "methods": methods}


@app.command("list")
def list_command() -> None:
    """List the registered models (with parameter counts), datasets and methods."""
    for title, rows in catalog().items():
        table = Table(title=title)
        for column in rows[0]:
            table.add_column(column)
        for row in rows:
            table.add_row(*(_cell(value) for value in row.values()))
        console.print(table)


def _cell(value) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return ", ".join(value) if isinstance(value, list) else str(value)


@app.command()
def report(
    name: str = typer.Argument(..., help="Sweep name (a folder under the results root)."),
    table: list[str] = typer.Option([], help="Table: compression (paper Table 1) or accuracy (Table 2). Repeatable."),
    plot: list[str] = typer.Option([], help="Figure: pareto, layers or dynamics. Repeatable."),
    eps: list[float] = typer.Option(list(TABLE1_EPS), help="Accuracy tolerance in percentage points (repeatable)."),
    absolute: list[float] = typer.Option(
        [], help="Also write Table 1 at this absolute test accuracy in percent (repeatable), e.g. the paper's "
                 "thresholds 84.12 and 79.12 for LeNet-300-100 / F-MNIST, to separate a dense shift from method "
                 "effects."),
    results: str = typer.Option(DEFAULT_RESULTS, help="Results root holding NAME/: a directory or a URI."),
    out: Optional[Path] = typer.Option(None, help=f"Output folder (default: {DEFAULT_REPORTS}/NAME)."),
    epochs: Optional[int] = typer.Option(
        None, help="Only the trials trained for this many epochs (e.g. the full protocol's, when a quick "
                   "look at fewer epochs wrote to the same store)."),
    adaptive: bool = typer.Option(
        False, "--adaptive", help="The sweep ran with --adaptive (implied by the spec's `adaptive` key): the index "
                                  "lists the searches still open, whose cells can still move, and searches.csv "
                                  "holds every search's state."),
    spec: Optional[str] = typer.Option(
        None, help="The sweep's spec (a path), when it is not sweeps/NAME.yaml: its methods, grid and searches."),
    methods: Optional[str] = typer.Option(
        None, help="The sweep ran only these methods of its spec (`bench sweep --methods`): the methods judged "
                   "missing and the searches listed are theirs."),
    eps_mode: str = typer.Option(
        "points", help="How ε reads: points (the dense median accuracy minus ε percentage points, as the paper's "
                       "Table 1 caption) or relative (the dense median x (1 - ε/100), as its body text's 'within "
                       "5% of the dense model accuracy')."),
    all_methods: bool = typer.Option(
        False, "--all-methods", help="Figures draw every method; by default only the paper's (those the spec's "
                                     "`paper:` key lists), so that its series stay apart."),
    data_fingerprint: Optional[str] = typer.Option(
        None, help="Report the trials trained on this data (default: the newest trial's data); rows of "
                   "different data are never mixed, and the index names the others."),
    complete_only: bool = typer.Option(
        False, "--complete-only", help="Leave out configurations measured on fewer seeds than their section's "
                                       "most (a `--search shared` sweep's one-seed points)."),
    search: str = typer.Option("bisect", "--search", help="The adaptive search the sweep ran (bisect or shared): "
                               "the searches listed are its; shared implies --complete-only."),
) -> None:
    """Turn a sweep's results into tables and figures. With no --table/--plot, writes all of them plus an index."""
    from suite.analysis.training_length import UnknownEpochsError
    from suite.analysis.writing import REPORT_PLOTS, REPORT_TABLES, write_report
    from suite.analysis.data_selection import data_present, pinned_in_configs
    from suite.analysis.tables import EPS_MODES
    from suite.analysis.staging import ReportOutError, check_out
    from suite.results.store import StoreReadError, load_failures, load_table, scan_rows
    from suite.results.files import StoreRootError, check_root, list_folders, list_names
    from suite.results.layout import StoreNameError, check_sweep_name, table_dir

    try:
        check_sweep_name(name)
    except StoreNameError as exc:
        fail(str(exc))
    for value, allowed, what in ((table, REPORT_TABLES, "--table"), (plot, REPORT_PLOTS, "--plot")):
        bad = sorted(set(value) - set(allowed))
        if bad:
            fail(f"{what} {', '.join(bad)} not known; allowed: {', '.join(allowed)}")
    if eps_mode not in EPS_MODES:
        fail(f"--eps-mode {eps_mode}: allowed: {', '.join(EPS_MODES)}")
    bad_eps = [e for e in eps if not (math.isfinite(e) and 0 < e <= 100)]
    if bad_eps:
        fail(f"--eps {', '.join(f'{e:g}' for e in bad_eps)}: allowed: a number of percentage points in (0, 100]")
    bad_absolute = [a for a in absolute if not (math.isfinite(a) and 0 < a <= 100)]
    if bad_absolute:
        fail(f"--absolute {', '.join(f'{a:g}' for a in bad_absolute)}: allowed: a test accuracy in percent in (0, 100]")
    out = out or Path(DEFAULT_REPORTS) / name
    try:
        check_out(out)  # before anything is read: a report that cannot be written is not computed
        check_root(results)
        done, damaged = scan_rows(results, name)
    except (StoreRootError, StoreReadError) as exc:
        fail(f"--results {results}: {exc}")
    except ReportOutError as exc:
        fail(str(exc))
    if not done and not damaged and not load_failures(results, name):
        found = [f for f in list_folders(results) if list_names(results, table_dir(f, "rows"), ".parquet")]
        fail(f"no results for sweep {name!r} under {results}/; sweeps with results there: {found or 'none'}")
    if search not in ("bisect", "shared"):
        fail(f"--search {search}: allowed: bisect, shared")
    everything = not table and not plot
    stored = load_table(results, name)
    present = data_present(stored)
    if data_fingerprint is not None and data_fingerprint not in present:
        fail(f"--data-fingerprint {data_fingerprint}: no trial of {name!r} trained on it; allowed: "
             f"{', '.join(present) or 'none'}")
    chosen = data_fingerprint or (present[0] if present else None)
    try:
        write_report(results, name, out,
                     tables=REPORT_TABLES if everything else table, plots=REPORT_PLOTS if everything else plot,
                     eps=tuple(eps), console=console,
                     **_spec_facts(name, results, spec, adaptive or search == "shared", parse_names(methods),
                                   epochs, search, chosen if pinned_in_configs(stored, chosen) else None),
                     absolute_thresholds=[a / 100 for a in absolute] or None, epochs=epochs,
                     data_fingerprint=chosen, eps_mode=eps_mode, all_methods=all_methods,
                     complete_only=complete_only or search == "shared")
    except UnknownEpochsError as exc:  # found before anything is written
        fail(f"--epochs {epochs}: {exc}")
    except StoreReadError as exc:
        fail(f"--results {results}: {exc}")


def _spec_facts(name: str, results: str, spec_path: str | None, adaptive: bool, methods: list[str] | None,
                epochs: int | None, search: str = "bisect", data_fingerprint: str | None = None) -> dict:
    """What the sweep's spec asks for: its methods, its full grid's trial count and, for an adaptive sweep,
    how far its searches are (replayed on the store as a resumed run would, at the spec's seeds and grid,
    with the report's --epochs and --methods). The spec is sweeps/NAME.yaml or `--spec`; without one,
    nothing, and --adaptive or --methods, which need it, are errors."""
    from suite.sweep.expansion import count_trials
    from suite.sweep.loading import available_sweeps, load_spec
    from suite.analysis.data_selection import NOT_RECORDED
    from suite.sweep.options import SweepOptions
    from suite.sweep.overrides import with_data
    from suite.sweep.spec import SpecError

    needs = [flag for flag, given in (("--adaptive", adaptive), ("--methods", methods)) if given]
    if spec_path is None and name not in available_sweeps():
        if needs:
            fail(f"{' and '.join(needs)}: no sweep spec sweeps/{name}.yaml; name the spec the sweep ran with "
                 "--spec PATH")
        return {}
    try:
        spec = load_spec(spec_path or name)
        if spec.name != name:
            fail(f"spec {spec_path or name!r} is the spec of sweep {spec.name!r}, not of {name!r}")
        spec = SweepOptions(methods=methods, epochs=epochs).apply(spec)
        if data_fingerprint not in (None, NOT_RECORDED):  # the searches on the reported data
            spec = with_data(spec, data_fingerprint)
    except SpecError as exc:
        if spec_path is not None or needs:
            fail(str(exc))
        return {}
    facts = {"expected_methods": spec.method_names, "grid_trials": count_trials(spec), "paper": spec.paper}
    if adaptive or spec.adaptive is not None:
        from suite.run.adaptive_preview import preview_adaptive
        from suite.run.plan import make_plan
        from suite.run.search.preview import shared_records

        try:
            plan = make_plan(spec, results)
            facts["searches"] = shared_records(plan) if search == "shared" else preview_adaptive(plan).records()
        except ValueError as exc:  # ε cells without dense trials
            fail(f"adaptive searches of {name!r}: {exc}")
    return facts


def main() -> None:
    app()


if __name__ == "__main__":
    main()
