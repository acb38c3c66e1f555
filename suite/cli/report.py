"""`bench report`: a sweep's results -> its tables, figures and index (`suite.analysis.writing`).

The tables and figures it offers are the registered ones (`suite.analysis.report_registry`): `--table`
and `--plot` accept their names, an unknown name is an error listing them, and `--help` lists them with
their help lines, read from the registry when the help is shown (after `--plugin` has imported a
plugin's own)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand

from suite.cli.app import app, console, fail, parsed
from suite.sweep.options import SweepOptions, parse_ints, parse_names
from suite.grid import TABLE1_EPS
from suite.paths import DEFAULT_REPORTS, DEFAULT_RESULTS

TABLE_HELP = "A table to write (repeatable; default: every one):"
PLOT_HELP = "A figure to draw (repeatable; default: every one):"


def import_plugins(plugins: list[str]) -> list[str]:
    """--plugin: import each (it may register its own tables and figures) while the command line is read,
    before --help is shown when it comes first."""
    if plugins:
        from suite.sweep.parsing import import_plugins as load

        try:
            load(plugins)
        except Exception as exc:  # noqa: BLE001 - any failure to import a plugin is the user's to fix
            fail(f"--plugin {', '.join(plugins)}: cannot import it: {type(exc).__name__}: {exc}")
    return plugins


class ReportCommand(TyperCommand):
    """`bench report`, whose --table / --plot help is the registry's, as it stands when the help is shown."""

    def format_help(self, ctx, formatter) -> None:
        from suite.analysis.report_registry import FIGURES, TABLES, help_lines

        for param in self.params:
            if param.name in ("table", "plot"):
                param.help = f"{TABLE_HELP if param.name == 'table' else PLOT_HELP} " \
                             f"{help_lines(TABLES if param.name == 'table' else FIGURES)}."
        return super().format_help(ctx, formatter)


NAME = typer.Argument(..., help="Sweep name (a folder under the results root).")
TABLE = typer.Option([], help=TABLE_HELP + " the registered tables.")
PLOT = typer.Option([], help=PLOT_HELP + " the registered figures.")
EPS = typer.Option(list(TABLE1_EPS), help="Accuracy tolerance in percentage points (repeatable).")
ABSOLUTE = typer.Option(
    [], help="Also write Table 1 at this absolute test accuracy in percent (repeatable), e.g. the paper's "
             "thresholds 84.12 and 79.12 for LeNet-300-100 / F-MNIST, to separate a dense shift from method "
             "effects.")
RESULTS = typer.Option(DEFAULT_RESULTS, help="Results root holding NAME/: a directory or a URI.")
OUT = typer.Option(None, help=f"Output folder (default: {DEFAULT_REPORTS}/NAME).")
EPOCHS = typer.Option(
    None, help="Only the trials trained for this many epochs (e.g. the full protocol's, when a quick "
               "look at fewer epochs wrote to the same store).")
ADAPTIVE = typer.Option(
    False, "--adaptive", help="The sweep ran with --adaptive (implied by the spec's `adaptive` key): the index "
                              "lists the searches still open, whose cells can still move, and searches.csv "
                              "holds every search's state.")
SPEC = typer.Option(
    None, help="The sweep's spec (a path), when it is not sweeps/NAME.yaml: its methods, grid and searches.")
METHODS = typer.Option(
    None, help="The sweep ran only these methods of its spec (`bench sweep --methods`): the methods judged "
               "missing and the searches listed are theirs.")
SEEDS = typer.Option(
    None, help="The sweep ran with these seeds (`bench sweep --seeds`, e.g. 0,1): its searches are replayed at "
               "them.")
MAX_GRID = typer.Option(
    None, "--max-grid", help="The sweep ran with its grids capped (`bench sweep --max-grid N`): its searches and "
                             "full grid are replayed at that cap.")
EPS_MODE = typer.Option(
    "points", help="How ε reads: points (the dense median accuracy minus ε percentage points, as the paper's "
                   "Table 1 caption) or relative (the dense median x (1 - ε/100), as its body text's 'within "
                   "5% of the dense model accuracy').")
ALL_METHODS = typer.Option(
    False, "--all-methods", help="Figures draw every method; by default only the paper's (those the spec's "
                                 "`paper:` key lists), so that its series stay apart.")
DATA_FINGERPRINT = typer.Option(
    None, help="Report the trials trained on this data (default: the newest trial's data); rows of "
               "different data are never mixed, and the index names the others.")
COMPLETE_ONLY = typer.Option(
    False, "--complete-only", help="Leave out configurations measured on fewer seeds than their section's "
                                   "most (a `--search shared` sweep's one-seed points).")
SEARCH = typer.Option("bisect", "--search", help="The adaptive search the sweep ran (bisect or shared): "
                      "the searches listed are its; shared implies --complete-only.")
LEVEL_RULE = typer.Option("interpolated", "--level-rule", help="With --search shared: the Table 2 rule the sweep "
                          "ran with (interpolated or measured); only interpolated shows estimated cells.")
PLUGIN = typer.Option(
    [], callback=import_plugins, is_eager=True,
    help="A plugin to import first (a module name, or a .py file) that registers its own report tables or "
         "figures (or methods); repeatable. Before --help, the help lists what it registers.")


@app.command(cls=ReportCommand)
def report(
    name: str = NAME,
    table: list[str] = TABLE,
    plot: list[str] = PLOT,
    eps: list[float] = EPS,
    absolute: list[float] = ABSOLUTE,
    results: str = RESULTS,
    out: Optional[Path] = OUT,
    epochs: Optional[int] = EPOCHS,
    adaptive: bool = ADAPTIVE,
    spec: Optional[str] = SPEC,
    methods: Optional[str] = METHODS,
    seeds: Optional[str] = SEEDS,
    max_grid: Optional[int] = MAX_GRID,
    eps_mode: str = EPS_MODE,
    all_methods: bool = ALL_METHODS,
    data_fingerprint: Optional[str] = DATA_FINGERPRINT,
    complete_only: bool = COMPLETE_ONLY,
    search: str = SEARCH,
    level_rule: str = LEVEL_RULE,
    plugin: list[str] = PLUGIN,
) -> None:
    """Turn a sweep's results into tables and figures. With no --table/--plot, writes all of them plus an index."""
    from suite.analysis.training_length import UnknownEpochsError
    from suite.analysis.writing import write_report
    from suite.results.store import StoreReadError

    _check_flags(name, table, plot, eps_mode, eps, absolute, search, level_rule)
    ran = SweepOptions(methods=parsed(parse_names, methods, "--methods"), epochs=epochs,
                       seeds=parsed(parse_ints, seeds, "--seeds"), max_grid=max_grid)
    searched = adaptive or search == "shared"
    spec_ran = _ran_spec(name, spec, searched, ran)  # its options judged before the store
    out = out or Path(DEFAULT_REPORTS) / name
    _check_store(name, results, out)
    chosen, pinned = _chosen_data(name, results, data_fingerprint)
    everything = not table and not plot
    try:
        write_report(results, name, out, tables=None if everything else table, plots=None if everything else plot,
                     eps=tuple(eps), console=console,
                     **_spec_facts(name, results, spec_ran, searched, search,
                                   chosen if pinned else None, level_rule),
                     absolute_thresholds=[a / 100 for a in absolute] or None, epochs=epochs,
                     data_fingerprint=chosen, eps_mode=eps_mode, all_methods=all_methods,
                     complete_only=complete_only or search == "shared")
    except UnknownEpochsError as exc:  # found before anything is written
        fail(f"--epochs {epochs}: {exc}")
    except StoreReadError as exc:
        fail(f"--results {results}: {exc}")


def _check_flags(name: str, table: list[str], plot: list[str], eps_mode: str, eps: list[float],
                 absolute: list[float], search: str, level_rule: str) -> None:
    """Every flag that can be judged without the store; an error naming what is allowed."""
    from suite.analysis.report_registry import FIGURES, TABLES, figure_names, table_names
    from suite.analysis.report_tables import ABSOLUTE_TABLE_NAME
    from suite.analysis.tables import EPS_MODES
    from suite.results.layout import StoreNameError, check_sweep_name

    try:
        check_sweep_name(name)
    except StoreNameError as exc:
        fail(str(exc))
    for value, registry, allowed, what in ((table, TABLES, table_names(), "--table"),
                                           (plot, FIGURES, figure_names(), "--plot")):
        bad = sorted(set(v for v in value if v not in registry))
        if bad:
            fail(f"{what} {', '.join(bad)} not known; allowed: {', '.join(allowed)}")
    if ABSOLUTE_TABLE_NAME in table and not absolute:
        fail(f"--table {ABSOLUTE_TABLE_NAME}: needs the thresholds, --absolute PERCENT (repeatable)")
    if eps_mode not in EPS_MODES:
        fail(f"--eps-mode {eps_mode}: allowed: {', '.join(EPS_MODES)}")
    bad_eps = [e for e in eps if not (math.isfinite(e) and 0 < e <= 100)]
    if bad_eps:
        fail(f"--eps {', '.join(f'{e:g}' for e in bad_eps)}: allowed: a number of percentage points in (0, 100]")
    bad_absolute = [a for a in absolute if not (math.isfinite(a) and 0 < a <= 100)]
    if bad_absolute:
        fail(f"--absolute {', '.join(f'{a:g}' for a in bad_absolute)}: allowed: a test accuracy in percent in (0, 100]")

    problem = SweepOptions(search=search, level_rule=level_rule).search_problem(adaptive=True)  # the sweep's rule
    if problem:
        fail(problem)


def _check_store(name: str, results: str, out: Path) -> None:
    """The report can be written to `out` and the store holds something of sweep `name`; else an error."""
    from suite.analysis.staging import ReportOutError, check_out
    from suite.results.files import StoreRootError, check_root, list_folders, list_names
    from suite.results.layout import table_dir
    from suite.results.store import StoreReadError, load_failures, scan_rows

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


def _chosen_data(name: str, results: str, data_fingerprint: str | None) -> tuple[str | None, bool]:
    """(the data to report: --data-fingerprint, else the newest trial's; whether the sweep's configs pin it)."""
    from suite.analysis.data_selection import data_present, pinned_in_configs
    from suite.results.store import load_table

    stored = load_table(results, name)
    present = data_present(stored)
    if data_fingerprint is not None and data_fingerprint not in present:
        fail(f"--data-fingerprint {data_fingerprint}: no trial of {name!r} trained on it; allowed: "
             f"{', '.join(present) or 'none'}")
    chosen = data_fingerprint or (present[0] if present else None)
    return chosen, pinned_in_configs(stored, chosen)


def _ran_spec(name: str, spec_path: str | None, adaptive: bool, ran: SweepOptions):
    """The sweep's spec with the options it `ran` with applied (the report's --epochs, --methods, --seeds and
    --max-grid), judged before the store is read. The spec is sweeps/NAME.yaml or `--spec`; without one (or
    one that does not load), None, and --adaptive or an option, which need it, are errors."""
    from suite.sweep.loading import available_sweeps, load_spec
    from suite.sweep.spec import SpecError

    needs = [flag for flag, given in (("--adaptive", adaptive), ("--methods", ran.methods), ("--seeds", ran.seeds),
                                      ("--max-grid", ran.max_grid)) if given is not None and given is not False]
    if spec_path is None and name not in available_sweeps():
        if needs:
            fail(f"{' and '.join(needs)}: no sweep spec sweeps/{name}.yaml; name the spec the sweep ran with "
                 "--spec PATH")
        return None
    try:
        spec = load_spec(spec_path or name)
        if spec.name != name:
            fail(f"spec {spec_path or name!r} is the spec of sweep {spec.name!r}, not of {name!r}")
        return ran.apply(spec)
    except SpecError as exc:
        if spec_path is not None or needs:
            fail(str(exc))
        return None


def _spec_facts(name: str, results: str, spec, adaptive: bool, search: str = "bisect",
                data_fingerprint: str | None = None, level_rule: str = "interpolated") -> dict:
    """What the sweep's spec (`_ran_spec`; None: nothing) asks for: its methods, its full grid's trial count
    and, for an adaptive sweep, how far its searches are (replayed on the store as a resumed run would)."""
    from suite.sweep.expansion import count_trials
    from suite.analysis.data_selection import NOT_RECORDED
    from suite.sweep.overrides import with_data

    if spec is None:
        return {}
    if data_fingerprint not in (None, NOT_RECORDED):  # the searches on the reported data
        spec = with_data(spec, data_fingerprint)
    facts = {"expected_methods": spec.method_names, "grid_trials": count_trials(spec), "paper": spec.paper}
    if adaptive or spec.adaptive is not None:
        from suite.run.search.preview import preview_adaptive
        from suite.run.plan import make_plan
        from suite.run.search.shared.preview import shared_report

        try:
            plan = make_plan(spec, results)
            if search == "shared":  # its estimated level cells are Table 2's too
                facts["searches"], facts["estimates"] = shared_report(plan, level_rule)
            else:
                facts["searches"] = preview_adaptive(plan).records()
        except ValueError as exc:  # ε cells without dense trials
            fail(f"adaptive searches of {name!r}: {exc}")
    return facts
