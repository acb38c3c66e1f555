"""`bench sweep` (registered on the main typer app), and the spec loading `bench submit` shares with it."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional

import typer

from suite.cli.app import app, check_environment, console, err_console, fail
from suite.paths import DEFAULT_RESULTS
from suite.sweep.options import SweepOptions


# The options of `bench sweep` that are not sweep options (suite.sweep.options): where and how this command
# runs the sweep, never passed on by `bench submit`.
SWEEP_ONLY = (
    inspect.Parameter("results", inspect.Parameter.KEYWORD_ONLY, annotation=str, default=typer.Option(
        DEFAULT_RESULTS, help="Results root: a directory, or a URI every node reaches (s3://bucket/results, "
                              "file:///shared/results).")),
    inspect.Parameter("data", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path], default=typer.Option(
        None, help="Data root (default: $BENCH_DATA or ~/.cache/bench/data).")),
    inspect.Parameter("address", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str], default=typer.Option(
        None, help="Join a running Ray cluster (auto, HOST:6379, ray://HOST:10001); default: a local Ray instance.")),
    inspect.Parameter("num_cpus", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[int], default=typer.Option(
        None, help="CPUs of the local Ray instance (default: all).")),
    inspect.Parameter("max_concurrent", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[int],
                      default=typer.Option(None, help="At most this many trials at once.")),
    inspect.Parameter("dry_run", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=typer.Option(
        False, "--dry-run", help="Print the plan and run nothing: trials, done and to run per method; with "
                                 "--adaptive each search, its bracket, budget and stored trials.")),
    inspect.Parameter("log_to", inspect.Parameter.KEYWORD_ONLY, annotation=list[str], default=typer.Option(
        [], "--log-to", help="Also log every trial to an experiment tracker through Ray Tune's integrations: "
                             "tensorboard, mlflow (`tracking` extra). Repeatable.")),
    inspect.Parameter("mlflow_uri", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str], default=typer.Option(
        None, help="MLflow tracking URI for --log-to mlflow (default: $MLFLOW_TRACKING_URI, else "
                   "RESULTS/NAME/mlflow.db).")),
)


def sweep_option_parameters(submit: bool = False) -> list[inspect.Parameter]:
    """One typer option per sweep option (suite.sweep.options): its type, default and help from its declaration;
    `submit`: as `bench submit` shows it, which passes it on."""
    hints = typing.get_type_hints(SweepOptions)
    out = []
    for f in dataclasses.fields(SweepOptions):
        info = f.metadata["sweep"]
        annotation = Optional[str] if info.parse else hints[f.name]  # given as text, parsed by the declaration
        option = typer.Option(f.default, *((info.flag(f.name),) if info.switch else ()),
                              help=info.submit_help if submit else info.help)
        out.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=option))
    return out


def sweep_options(values: dict[str, Any]) -> SweepOptions:
    """The sweep options of a command's parsed `values` (taken out of them); exit 2 naming a bad one."""
    try:
        return SweepOptions.from_command_line({f.name: values.pop(f.name) for f in dataclasses.fields(SweepOptions)})
    except ValueError as exc:
        fail(str(exc))


def expanded(name: str, options: SweepOptions):
    """The spec `name` names with the options' overrides, expanded once for the whole command
    (suite.sweep.expansion.Expansion); exit 2 naming what is wrong with either."""
    from suite.sweep.spec import SpecError

    try:
        return options.expand(name)
    except SpecError as exc:
        fail(str(exc))


def _print_plan(expansion, results: str, adaptive: bool, search: str = "bisect",
                level_rule: str = "interpolated") -> None:
    """The plan, read from the store without changing it (a dry run imports no Ray, writes and creates nothing):
    the grid's trials per method, or with `adaptive` the searches that would replace them."""
    from suite.run.plan import make_plan
    from suite.run.summary import damaged_lines, data_lines, lr_lines, plan_table

    plan = make_plan(expansion, results)
    for line in data_lines(plan) + damaged_lines(plan):
        console.print(line, highlight=False, soft_wrap=True)
    if adaptive and search == "shared":
        from suite.run.search.shared.preview import preview_shared

        for line in preview_shared(plan, level_rule):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    elif adaptive:
        from suite.run.search.preview import preview_adaptive, preview_lines

        for line in preview_lines(preview_adaptive(plan)):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(plan_table(plan))
    for line in lr_lines(plan):
        console.print(line, highlight=False, soft_wrap=True)


def check_search(options: SweepOptions, adaptive: bool) -> None:
    """--search and --level-rule: known values, and only where they apply (exit 2 otherwise)."""
    problem = options.search_problem(adaptive)
    if problem:
        fail(problem)


def _with_trackers(expansion, log_to: list[str], root: str, mlflow_uri: str | None):
    """The spec with the trackers of --log-to (suite.run.trackers), or a named error before anything runs."""
    import dataclasses

    from suite.run.trackers import TrackerError, tracker_entries

    try:
        trackers = tracker_entries(log_to, root, expansion.spec.name, mlflow_uri)
        return dataclasses.replace(expansion, spec=dataclasses.replace(expansion.spec, trackers=trackers))
    except TrackerError as exc:
        fail(str(exc))


def _pinned(expansion, data: Path | None, dry_run: bool):
    """The spec's expansion pinned to its data's fingerprint. A dry run downloads nothing: without the data on
    disk it cannot tell which stored trials are theirs, says so, and counts every trial as to run."""
    from suite.core.data.root import DataError
    from suite.run.driver import data_fingerprint

    try:
        return expansion.pinned(data_fingerprint(expansion.spec, str(data) if data else None, download=not dry_run))
    except DataError as exc:
        if not dry_run:
            fail(str(exc))
        from suite.run.plan import UNKNOWN_DATA

        console.print(f"data not on disk ({exc}); a dry run downloads nothing, so which stored trials were "
                      "trained on it cannot be told: every trial counts as to run", highlight=False, markup=False,
                      soft_wrap=True)
        return expansion.pinned(UNKNOWN_DATA[0])


def sweep(name: str, **values: Any) -> None:
    """Run a sweep through Ray Tune: every trial of the spec not yet in the store.

    Finished trials are never retrained: re-run the same command after an
    interruption (Ctrl-C or SIGTERM) to finish the sweep. One driver per sweep
    and store at a time. Exit status: 0 all done, 1 some trial failed (see the
    summary), 2 bad input or store busy, 130 interrupted.
    """
    own = SimpleNamespace(**{p.name: values.pop(p.name) for p in SWEEP_ONLY})
    options = sweep_options(values)
    check_environment()
    expansion = expanded(name, options)  # every trial built and checked, once for the whole command
    spec = expansion.spec
    root = _checked_where(own)
    adaptive = options.adaptive or spec.adaptive is not None  # the spec key asks for it too
    check_search(options, adaptive)
    if own.log_to and not own.dry_run:  # checked (and its library found) before anything runs
        expansion = _with_trackers(expansion, own.log_to, root, own.mlflow_uri)
    if adaptive:
        from suite.run.search.bisect.plan import require_dense, require_one_dense

        try:
            require_dense(spec.adaptive_settings, spec.method_names)
            require_one_dense(expansion.listed())
        except ValueError as exc:
            fail(f"--adaptive: {exc}")
    expansion = _pinned(expansion, own.data, own.dry_run)
    if own.dry_run:
        from suite.results.store import StoreReadError

        try:
            _print_plan(expansion, root, adaptive, options.search, options.level_rule)
        except StoreReadError as exc:
            fail(str(exc))
        return
    from suite.sweep.loading import names_a_file

    _run(expansion, own, root, adaptive, options, options.report_flags(adaptive, name if names_a_file(name) else None))


def _checked_where(own: SimpleNamespace) -> str:
    """The results root, normalized, once --num-cpus, --max-concurrent and --data are checked (exit 2)."""
    from suite.run.outcome import normalize_results

    if own.num_cpus is not None and own.num_cpus < 1:
        fail(f"--num-cpus {own.num_cpus}: allowed: an integer >= 1")
    if own.max_concurrent is not None and own.max_concurrent < 1:
        fail(f"--max-concurrent {own.max_concurrent}: allowed: an integer >= 1")
    if own.data is not None and not own.data.expanduser().is_dir():
        fail(f"--data {own.data}: no such directory")
    try:
        return normalize_results(own.results)
    except OSError as exc:
        fail(f"--results {own.results}: cannot use it: {exc}")


def _run(expansion, own: SimpleNamespace, root: str, adaptive: bool, options: SweepOptions,
         report_flags: list[str]) -> None:
    """Run the sweep and print its summary (ending in the report command, with `report_flags`); exit 1 when a
    trial failed, 130 when interrupted."""
    from suite.results.store import StoreReadError
    from suite.run.driver import run_sweep
    from suite.run.guard.driver_lock import StoreBusy
    from suite.run.outcome import RunOptions, TuneSetupError
    from suite.run.summary import summary_lines

    run_options = RunOptions(results=root, data=str(own.data) if own.data else None, address=own.address,
                             num_cpus=own.num_cpus, max_concurrent=own.max_concurrent, adaptive=adaptive,
                             search=options.search, level_rule=options.level_rule)
    try:
        outcome = run_sweep(expansion, run_options, console=err_console)
    except (TuneSetupError, StoreBusy, StoreReadError) as exc:
        fail(str(exc))
    if outcome.total and outcome.already_done == outcome.total and not outcome.ray_started:
        console.print(f"sweep {outcome.sweep}: all {outcome.total} trial(s) already in the store "
                      f"({outcome.results}/{outcome.sweep}); nothing to run", highlight=False, soft_wrap=True)
        return
    for line in summary_lines(outcome, report_flags):
        console.print(line, highlight=False, soft_wrap=True)
    if outcome.interrupted:
        raise typer.Exit(130)
    if not outcome.ok:
        raise typer.Exit(1)


NAME = inspect.Parameter("name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str, default=typer.Argument(
    ..., help="Sweep name (sweeps/NAME.yaml, e.g. lenet300_fmnist or smoke) or a path to a YAML spec."))
# typer reads the options off the signature: the spec, the sweep options (passed on by `bench submit`), this
# command's own.
sweep.__signature__ = inspect.Signature([NAME] + sweep_option_parameters() + list(SWEEP_ONLY))
app.command("sweep")(sweep)
