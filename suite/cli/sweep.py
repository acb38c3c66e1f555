"""`bench sweep` and `bench submit` (registered on the main typer app)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from suite.paths import DEFAULT_RESULTS
from suite.cli.app import app, console, err_console, fail


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


def _load(name: str, epochs, seeds, methods, max_grid, lr_budget, cpus_per_trial, gpus_per_trial, max_trials=None):
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
    from suite.run.summary import damaged_lines, lr_lines, plan_table

    plan = make_plan(spec, results)
    for line in damaged_lines(plan):
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


def _check_search(search: str, level_rule: str, adaptive: bool) -> None:
    """--search and --level-rule: known values, and only where they apply (exit 2 otherwise)."""
    if search not in ("bisect", "shared"):
        fail(f"--search {search}: allowed: bisect, shared")
    if search == "shared" and not adaptive:
        fail("--search shared: allowed only with --adaptive (or the spec key `adaptive`)")
    if level_rule not in ("interpolated", "measured"):
        fail(f"--level-rule {level_rule}: allowed: interpolated, measured")
    if level_rule != "interpolated" and search != "shared":
        fail("--level-rule: allowed only with --search shared")


@app.command()
def sweep(
    name: str = typer.Argument(..., help="Sweep name (sweeps/NAME.yaml, e.g. lenet300_fmnist or smoke) or a path to a YAML spec."),
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
) -> None:
    """Run a sweep through Ray Tune: every trial of the spec not yet in the store.

    Finished trials are never retrained: re-run the same command after an
    interruption (Ctrl-C or SIGTERM) to finish the sweep. One driver per sweep
    and store at a time. Exit status: 0 all done, 1 some trial failed (see the
    summary), 2 bad input or store busy, 130 interrupted.
    """
    spec = _load(name, epochs, seeds, methods, max_grid, lr_budget, cpus_per_trial, gpus_per_trial, max_trials)
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
    _check_search(search, level_rule, adaptive)
    if adaptive:
        from suite.run.adaptive import require_dense

        try:
            require_dense(spec.adaptive_settings, spec.method_names)
        except ValueError as exc:
            fail(f"--adaptive: {exc}")
    if dry_run:
        _print_plan(spec, root, adaptive, search, level_rule)
        return
    from suite.run.driver import run_sweep
    from suite.run.summary import summary_lines

    options = RunOptions(results=root, data=str(data) if data else None, address=address, num_cpus=num_cpus,
                         max_concurrent=max_concurrent, adaptive=adaptive, search=search,
                         level_rule=level_rule)
    try:
        outcome = run_sweep(spec, options, console=err_console)
    except (TuneSetupError, StoreBusy) as exc:
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


@app.command()
def submit(
    name: str = typer.Argument(..., help="Sweep name or path to a YAML spec."),
    address: Optional[str] = typer.Option(None, help="Ray Jobs API (dashboard) address, e.g. http://HEAD:8265."),
    slurm: bool = typer.Option(False, "--slurm", help="Write a Slurm batch script (Ray over the allocation) and sbatch it."),
    nodes: int = typer.Option(1, help="Slurm: nodes."),
    gpus_per_node: int = typer.Option(0, help="Slurm: GPUs per node."),
    cpus_per_node: Optional[int] = typer.Option(None, help="Slurm: CPUs per node (default: what Slurm gives)."),
    time_limit: str = typer.Option("48:00:00", "--time", help="Slurm: time limit."),
    partition: Optional[str] = typer.Option(None, help="Slurm: partition."),
    script: Optional[Path] = typer.Option(None, help="Slurm: where to write the script (default: ./bench-NAME.sbatch)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Slurm: write and print the script, do not sbatch it."),
    wait: bool = typer.Option(False, "--wait", help="Wait for the job to end (Ray job: and print its logs; "
                                                    "Slurm: sbatch --wait)."),
    results: str = typer.Option(DEFAULT_RESULTS, help="Results root every node reaches: a shared path or a URI "
                                                      "(s3://bucket/results); a relative path is made absolute."),
    data: Optional[str] = typer.Option(None, help="Data root on the cluster nodes."),
    epochs: Optional[int] = typer.Option(None, help="Passed on to bench sweep."),
    seeds: Optional[str] = typer.Option(None, help="Passed on to bench sweep."),
    methods: Optional[str] = typer.Option(None, help="Passed on to bench sweep."),
    max_grid: Optional[int] = typer.Option(None, help="Passed on to bench sweep."),
    lr_budget: Optional[int] = typer.Option(None, help="Passed on to bench sweep."),
    cpus_per_trial: Optional[float] = typer.Option(None, help="Passed on to bench sweep."),
    gpus_per_trial: Optional[float] = typer.Option(None, help="Passed on to bench sweep."),
    adaptive: bool = typer.Option(False, "--adaptive", help="Passed on to bench sweep."),
    max_trials: Optional[int] = typer.Option(None, help="Passed on to bench sweep (and checked here first)."),
    search: str = typer.Option("bisect", "--search", help="Passed on to bench sweep."),
    level_rule: str = typer.Option("interpolated", "--level-rule", help="Passed on to bench sweep."),
) -> None:
    """Submit a sweep to a cluster: a Ray job (--address http://HEAD:8265) or a Slurm job (--slurm)."""
    from suite.run.submit import SubmitError, job_commands, passthrough_flags, submit_ray_job, wait_for_job
    from suite.sweep.loading import resolve_spec_path
    from suite.sweep.spec import SpecError

    if bool(address) == bool(slurm):
        fail("give exactly one of --address http://HEAD:8265 (a Ray cluster's Jobs API) or --slurm")
    # Validate here, before anything is sent: the same spec and flags must load on the cluster.
    spec = _load(name, epochs, seeds, methods, max_grid, lr_budget, cpus_per_trial, gpus_per_trial, max_trials)
    _check_search(search, level_rule, adaptive or spec.adaptive is not None)
    try:
        spec_path = resolve_spec_path(name)
    except SpecError as exc:
        fail(str(exc))
    if "://" not in results:
        results = str(Path(results).expanduser().resolve())
        err_console.print(f"note: results go to {results} on the cluster's nodes; it must be a path they all "
                          f"reach (or pass --results s3://...)", highlight=False, soft_wrap=True)
    extra = passthrough_flags(epochs=epochs, seeds=seeds, methods=methods, max_grid=max_grid, lr_budget=lr_budget,
                              cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial, adaptive=adaptive,
                              max_trials=max_trials, search=search, level_rule=level_rule)
    if address:
        try:
            job_id, entrypoint = submit_ray_job(address, name, spec_path, results, data=data, extra=extra)
        except SubmitError as exc:
            fail(str(exc))
        console.print(f"submitted sweep {spec.name} as Ray job [bold]{job_id}[/] to {address}", highlight=False, soft_wrap=True)
        console.print(f"entrypoint: {entrypoint}", highlight=False, soft_wrap=True)
        for line in job_commands(address, job_id):
            console.print(line, highlight=False, soft_wrap=True)
        if wait:
            status, logs = wait_for_job(address, job_id)
            console.print(logs, highlight=False, markup=False, soft_wrap=True)
            console.print(f"Ray job {job_id}: {status}", highlight=False, soft_wrap=True)
            if status != "SUCCEEDED":
                raise typer.Exit(1)
        return
    from suite.run.slurm import slurm_script, submit_slurm
    from suite.run.submit import spec_for_slurm

    # The script changes into the project first: every path in it is absolute (see suite/run/slurm.py).
    if data is not None:
        data = str(Path(data).expanduser().resolve())
    try:
        text = slurm_script(spec_for_slurm(name, spec_path), results, nodes=nodes, gpus_per_node=gpus_per_node,
                            cpus_per_node=cpus_per_node, time_limit=time_limit, partition=partition, data=data,
                            extra=extra)
    except SubmitError as exc:
        fail(str(exc))
    path = (script or Path(f"bench-{spec.name}.sbatch")).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    if dry_run:
        console.print(text, highlight=False, markup=False, soft_wrap=True)
        console.print(f"wrote {path} (not submitted: --dry-run); submit with: sbatch {path}", highlight=False, soft_wrap=True)
        return
    try:
        done = submit_slurm(path, wait=wait)
    except SubmitError as exc:
        fail(str(exc))
    answer = done.stdout.strip().splitlines()[0] if done.stdout.strip() else "submitted"
    job_id = answer.split()[-1] if answer.split()[-1].isdigit() else "<jobid>"
    console.print(f"{answer} (script {path}); its output: bench-{spec.name}-{job_id}.out in the folder sbatch ran in",
                  highlight=False, soft_wrap=True)
    if wait and done.returncode != 0:
        err_console.print(f"the Slurm job ended with exit status {done.returncode}", highlight=False)
        raise typer.Exit(1)
