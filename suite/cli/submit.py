"""`bench submit`: a sweep as a Ray job, or as a Slurm batch script (registered on the main typer app)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from suite.paths import DEFAULT_RESULTS
from suite.cli.app import app, check_environment, console, err_console, fail
from suite.cli.sweep import check_search, load_with_overrides


@app.command()
def submit(
    name: str = typer.Argument(..., help="Sweep name or path to a YAML spec."),
    address: Optional[str] = typer.Option(None, help="Ray Jobs API (dashboard) address, e.g. http://HEAD:8265."),
    slurm: bool = typer.Option(False, "--slurm",
                               help="Write a Slurm batch script (Ray over the allocation) and sbatch it."),
    nodes: int = typer.Option(1, help="Slurm: nodes."),
    gpus_per_node: int = typer.Option(0, help="Slurm: GPUs per node."),
    cpus_per_node: Optional[int] = typer.Option(None, help="Slurm: CPUs per node (default: what Slurm gives)."),
    time_limit: str = typer.Option("48:00:00", "--time", help="Slurm: time limit."),
    partition: Optional[str] = typer.Option(None, help="Slurm: partition."),
    script: Optional[Path] = typer.Option(None, help="Slurm: where to write the script "
                                                     "(default: ./bench-NAME.sbatch)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be submitted (Slurm: the script, on "
                                                          "stdout alone); write, send and submit nothing."),
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
    from suite.run.submit import (SubmitError, job_commands, passthrough_flags, ray_job_plan, submit_ray_job,
                                  wait_for_job)
    from suite.results.files import check_root
    from suite.sweep.loading import resolve_spec_path
    from suite.sweep.spec import SpecError

    if bool(address) == bool(slurm):
        fail("give exactly one of --address http://HEAD:8265 (a Ray cluster's Jobs API) or --slurm")
    check_environment()
    if script is not None and script.expanduser().is_dir():
        fail(f"--script {script}: a folder is there; allowed: a file path (new, or a script to replace)")
    # Validate here, before anything is sent: the same spec and flags must load on the cluster.
    spec = load_with_overrides(name, epochs, seeds, methods, max_grid, lr_budget, cpus_per_trial, gpus_per_trial,
                               max_trials)
    check_search(search, level_rule, adaptive or spec.adaptive is not None)
    try:
        spec_path = resolve_spec_path(name)
    except SpecError as exc:
        fail(str(exc))
    if "://" not in results:
        try:
            check_root(results)  # not empty, not a file, not a symbolic link loop
        except OSError as exc:
            fail(f"--results {results}: {exc}")
        results = str(Path(results).expanduser().resolve())
        err_console.print(f"note: results go to {results} on the cluster's nodes; it must be a path they all "
                          f"reach (or pass --results s3://...)", highlight=False, markup=False, soft_wrap=True)
    extra = passthrough_flags(epochs=epochs, seeds=seeds, methods=methods, max_grid=max_grid, lr_budget=lr_budget,
                              cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial, adaptive=adaptive,
                              max_trials=max_trials, search=search, level_rule=level_rule)
    if address and dry_run:
        entrypoint, upload = ray_job_plan(name, spec_path, results, data=data, extra=extra)
        for line in (f"would submit sweep {spec.name} as a Ray job to {address}; nothing sent (--dry-run)",
                     f"entrypoint: {entrypoint}", f"working directory uploaded: {upload}"):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        return
    if address:
        from suite.run.process_guard import sigterm_as_interrupt

        try:
            with sigterm_as_interrupt():
                job_id, entrypoint = submit_ray_job(address, name, spec_path, results, data=data, extra=extra)
        except SubmitError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail(f"interrupted (Ctrl-C or SIGTERM) while submitting to {address}: nothing was submitted", code=130)
        console.print(f"submitted sweep {spec.name} as Ray job [bold]{job_id}[/] to {address}", highlight=False,
                      soft_wrap=True)
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
    from suite.run.gpu_share import share_for_allocation
    from suite.run.slurm import slurm_script, submit_slurm
    from suite.run.submit import spec_for_slurm

    gpu_flags, warning = share_for_allocation(spec.gpus_per_trial, gpus_per_node, spec.model, spec.dataset)
    if warning:
        err_console.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
    extra += gpu_flags  # the packing rule's share, so the nodes' GPUs are used (suite/run/gpu_share.py)

    # The script changes into the project first: every path in it is absolute (see suite/run/slurm.py).
    if data is not None:
        try:
            data = str(Path(data).expanduser().resolve())
        except (RuntimeError, OSError) as exc:  # a symbolic link loop
            fail(f"--data {data}: cannot be resolved ({exc}); allowed: a folder path the nodes reach")
    try:
        text = slurm_script(spec_for_slurm(name, spec_path), results, nodes=nodes, gpus_per_node=gpus_per_node,
                            cpus_per_node=cpus_per_node, time_limit=time_limit, partition=partition, data=data,
                            extra=extra)
    except SubmitError as exc:
        fail(str(exc))
    path = (script or Path(f"bench-{spec.name}.sbatch")).expanduser()
    if dry_run:
        # stdout is the script alone, byte for byte, so `> FILE` saves it; the note goes to stderr.
        typer.echo(text, nl=not text.endswith("\n"))
        err_console.print(f"nothing written or submitted (--dry-run); without it, the script goes to {path} "
                          f"and is submitted with sbatch", highlight=False, soft_wrap=True)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)
    except OSError as exc:
        fail(f"--script {path}: cannot be written ({exc}); allowed: a file path this user can write")
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
