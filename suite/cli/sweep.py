"""`bench sweep` (registered on the main typer app), and the spec loading `bench submit` shares with it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from suite.paths import DEFAULT_RESULTS
from suite.cli.app import app, check_environment, console, err_console, fail


def _parse_ints(text: str | None, flag: str) -> list[int] | None:
    if text is None:
        return None
    try:
        values = [int(part) for part in text.split(",") if part.strip() != ""]
    except ValueError:
        fail(f"{flag} {text!r}: allowed: comma-separated integers, e.g. 0,1,2")
    if not values:
        fail(f"{flag} {text!r}: allowed: comma-separated integers, e.g. 0,1,2")
    return values


def parse_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        fail(f"--methods {text!r}: allowed: comma-separated method names, e.g. dwf,gmp")
    return names


def load_with_overrides(name: str, epochs, seeds, methods, max_grid, lr_budget, cpus_per_trial, gpus_per_trial,
                        max_trials=None):
    from suite.sweep.loading import load_spec
    from suite.sweep.overrides import apply_overrides
    from suite.sweep.spec import DEFAULT_MAX_TRIALS, SpecError

    try:
        spec = load_spec(name, max_trials=DEFAULT_MAX_TRIALS if max_trials is None else max_trials)
        return apply_overrides(spec, epochs=epochs, seeds=_parse_ints(seeds, "--seeds"),
                               methods=parse_names(methods), max_grid=max_grid, lr_budget=lr_budget,
                               cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial)
    except SpecError as exc:
        fail(str(exc))


def _print_plan(spec, results: str, adaptive: bool, search: str = "bisect", level_rule: str = "interpolated") -> None:
    """The plan, read from the store without changing it (a dry run imports no Ray, writes and creates nothing):
    the grid's trials per method, or with `adaptive` the searches that would replace them."""
    from suite.run.plan import make_plan
    from suite.run.summary import damaged_lines, data_lines, lr_lines, plan_table

    plan = make_plan(spec, results)
    for line in data_lines(plan) + damaged_lines(plan):
        console.print(line, highlight=False, soft_wrap=True)
    if adaptive and search == "shared":
        from suite.run.search.preview import preview_shared

        for line in preview_shared(plan, level_rule):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    elif adaptive:
        from suite.run.adaptive_preview import preview_adaptive, preview_lines

        for line in preview_lines(preview_adaptive(plan)):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(plan_table(plan))
    for line in lr_lines(plan):
        console.print(line, highlight=False, soft_wrap=True)


def check_search(search: str, level_rule: str, adaptive: bool) -> None:
    """--search and --level-rule: known values, and only where they apply (exit 2 otherwise)."""
    if search not in ("bisect", "shared"):
        fail(f"--search {search}: allowed: bisect, shared")
    if search == "shared" and not adaptive:
        fail("--search shared: allowed only with --adaptive (or the spec key `adaptive`)")
    if level_rule not in ("interpolated", "measured"):
        fail(f"--level-rule {level_rule}: allowed: interpolated, measured")
    if level_rule != "interpolated" and search != "shared":
        fail("--level-rule: allowed only with --search shared")


def _with_trackers(spec, log_to: list[str], root: str, mlflow_uri: str | None):
    """The spec with the trackers of --log-to (suite.run.trackers), or a named error before anything runs."""
    import dataclasses

    from suite.run.trackers import TrackerError, tracker_entries

    try:
        return dataclasses.replace(spec, trackers=tracker_entries(log_to, root, spec.name, mlflow_uri))
    except TrackerError as exc:
        fail(str(exc))


def _pinned(spec, data: Path | None, dry_run: bool):
    """The spec pinned to its data's fingerprint. A dry run downloads nothing: without the data on disk it
    cannot tell which stored trials are theirs, says so, and counts every trial as to run."""
    from suite.core.data_root import DataError
    from suite.run.driver import pin_data

    try:
        return pin_data(spec, str(data) if data else None, download=not dry_run)
    except DataError as exc:
        if not dry_run:
            fail(str(exc))
        from suite.run.plan import UNKNOWN_DATA
        from suite.sweep.overrides import with_data

        console.print(f"data not on disk ({exc}); a dry run downloads nothing, so which stored trials were "
                      "trained on it cannot be told: every trial counts as to run", highlight=False, markup=False,
                      soft_wrap=True)
        return with_data(spec, UNKNOWN_DATA[0])


@app.command()
def sweep(
    name: str = typer.Argument(..., help="Sweep name (sweeps/NAME.yaml, e.g. lenet300_fmnist or smoke) or a path "
                                         "to a YAML spec."),
    epochs: Optional[int] = typer.Option(None, help="Override the training epochs of every trial."),
    seeds: Optional[str] = typer.Option(None, help="Override the seeds, e.g. 0,1."),
    methods: Optional[str] = typer.Option(None, help="Run only these methods of the spec, e.g. dwf,gmp."),
    max_grid: Optional[int] = typer.Option(None, help="Cap every λ and compression grid to N values spread "
                                                       "evenly over its range (endpoints kept)."),
    lr_budget: Optional[int] = typer.Option(None, help="Trials of each `auto` learning-rate search."),
    results: str = typer.Option(DEFAULT_RESULTS, help="Results root: a directory, or a URI every node reaches "
                                                      "(s3://bucket/results, file:///shared/results)."),
    data: Optional[Path] = typer.Option(None, help="Data root (default: $BENCH_DATA or ~/.cache/bench/data)."),
    address: Optional[str] = typer.Option(None, help="Join a running Ray cluster (auto, HOST:6379, "
                                                     "ray://HOST:10001); default: a local Ray instance."),
    cpus_per_trial: Optional[float] = typer.Option(None, help="CPUs each trial holds (and torch threads)."),
    gpus_per_trial: Optional[float] = typer.Option(None, help="GPUs each trial holds (fractions share a GPU)."),
    num_cpus: Optional[int] = typer.Option(None, help="CPUs of the local Ray instance (default: all)."),
    max_concurrent: Optional[int] = typer.Option(None, help="At most this many trials at once."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and run nothing: trials, done and to run "
                                                          "per method; with --adaptive each search, its bracket, "
                                                          "budget and stored trials."),
    adaptive: bool = typer.Option(False, "--adaptive", help="Search each Table 1 / 2 cell by bisection (spec key "
                                                            "`adaptive`) instead of running the whole grid."),
    max_trials: Optional[int] = typer.Option(None, help="Refuse a spec with more trials than this "
                                                        "(default 20000), counted before it is expanded."),
    search: str = typer.Option("bisect", "--search", help="With --adaptive: bisect (each cell alone) or shared "
                                                          "(one model per method variant, seed racing, Table 2 "
                                                          "levels estimated; README, issue 25)."),
    level_rule: str = typer.Option("interpolated", "--level-rule", help="With --search shared: a Table 2 level "
                                   "interpolated between two bracketing configurations of every seed, or measured "
                                   "(a configuration within the tolerance above the level)."),
    log_to: list[str] = typer.Option([], "--log-to", help="Also log every trial to an experiment tracker through "
                                     "Ray Tune's integrations: tensorboard, mlflow (`tracking` extra). Repeatable."),
    mlflow_uri: Optional[str] = typer.Option(None, help="MLflow tracking URI for --log-to mlflow (default: "
                                             "$MLFLOW_TRACKING_URI, else RESULTS/NAME/mlflow.db)."),
) -> None:
    """Run a sweep through Ray Tune: every trial of the spec not yet in the store.

    Finished trials are never retrained: re-run the same command after an
    interruption (Ctrl-C or SIGTERM) to finish the sweep. One driver per sweep
    and store at a time. Exit status: 0 all done, 1 some trial failed (see the
    summary), 2 bad input or store busy, 130 interrupted.
    """
    check_environment()
    spec = load_with_overrides(name, epochs, seeds, methods, max_grid, lr_budget, cpus_per_trial, gpus_per_trial,
                               max_trials)
    from suite.results.store import StoreReadError
    from suite.run.driver_lock import StoreBusy
    from suite.run.outcome import RunOptions, TuneSetupError, normalize_results

    if num_cpus is not None and num_cpus < 1:
        fail(f"--num-cpus {num_cpus}: allowed: an integer >= 1")
    if max_concurrent is not None and max_concurrent < 1:
        fail(f"--max-concurrent {max_concurrent}: allowed: an integer >= 1")
    if data is not None and not data.expanduser().is_dir():
        fail(f"--data {data}: no such directory")
    try:
        root = normalize_results(results)
    except OSError as exc:
        fail(f"--results {results}: cannot use it: {exc}")
    adaptive = adaptive or spec.adaptive is not None  # the spec key asks for it too
    check_search(search, level_rule, adaptive)
    if log_to and not dry_run:  # checked (and its library found) before anything runs
        spec = _with_trackers(spec, log_to, root, mlflow_uri)
    if adaptive:
        from suite.run.adaptive import require_dense

        try:
            require_dense(spec.adaptive_settings, spec.method_names)
        except ValueError as exc:
            fail(f"--adaptive: {exc}")
    spec = _pinned(spec, data, dry_run)
    if dry_run:
        try:
            _print_plan(spec, root, adaptive, search, level_rule)
        except StoreReadError as exc:
            fail(str(exc))
        return
    from suite.run.driver import run_sweep
    from suite.run.summary import summary_lines

    options = RunOptions(results=root, data=str(data) if data else None, address=address, num_cpus=num_cpus,
                         max_concurrent=max_concurrent, adaptive=adaptive, search=search,
                         level_rule=level_rule)
    try:
        outcome = run_sweep(spec, options, console=err_console)
    except (TuneSetupError, StoreBusy, StoreReadError) as exc:
        fail(str(exc))
    if outcome.total and outcome.already_done == outcome.total and not outcome.ray_started:
        console.print(f"sweep {spec.name}: all {outcome.total} trial(s) already in the store "
                      f"({outcome.results}/{spec.name}); nothing to run", highlight=False, soft_wrap=True)
        return
    for line in summary_lines(outcome):
        console.print(line, highlight=False, soft_wrap=True)
    if outcome.interrupted:
        raise typer.Exit(130)
    if not outcome.ok:
        raise typer.Exit(1)
