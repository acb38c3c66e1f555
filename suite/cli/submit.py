"""`bench submit`: a sweep as a Ray job, or as a Slurm batch script (registered on the main typer app).

Its sweep options are those of `bench sweep` (suite.sweep.options), checked here and passed on; the rest
says where and how the job is submitted. What is sent is worked out in suite.run.cluster.submit (Ray job) and
suite.run.cluster.slurm (the batch script, its file and sbatch); this module checks the input and prints.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional

import typer

from suite.cli.app import app, check_environment, console, err_console, fail
from suite.cli.sweep import check_search, expanded, sweep_option_parameters, sweep_options
from suite.paths import DEFAULT_RESULTS


def _option(name: str, annotation: Any, default: Any, *decls: str, help: str) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, *decls, help=help))


# The options of `bench submit` that are not sweep options: where the job goes and how it is submitted.
SUBMIT_ONLY = (
    _option("address", Optional[str], None, help="Ray Jobs API (dashboard) address, e.g. http://HEAD:8265."),
    _option("slurm", bool, False, "--slurm", help="Write a Slurm batch script (Ray over the allocation) and sbatch "
                                                  "it."),
    _option("nodes", int, 1, help="Slurm: nodes."),
    _option("gpus_per_node", int, 0, help="Slurm: GPUs per node."),
    _option("cpus_per_node", Optional[int], None, help="Slurm: CPUs per node (default: what Slurm gives)."),
    _option("time_limit", str, "48:00:00", "--time", help="Slurm: time limit."),
    _option("partition", Optional[str], None, help="Slurm: partition."),
    _option("script", Optional[Path], None, help="Slurm: where to write the script (default: ./bench-NAME.sbatch)."),
    _option("dry_run", bool, False, "--dry-run", help="Print what would be submitted (Slurm: the script, on stdout "
                                                      "alone); write, send and submit nothing."),
    _option("wait", bool, False, "--wait", help="Wait for the job to end (Ray job: and print its logs; Slurm: "
                                                "sbatch --wait)."),
    _option("results", str, DEFAULT_RESULTS, help="Results root every node reaches: a shared path or a URI "
                                                  "(s3://bucket/results); a relative path is made absolute."),
    _option("data", Optional[str], None, help="Data root on the cluster nodes."),
)


def submit(name: str, **values: Any) -> None:
    """Submit a sweep to a cluster: a Ray job (--address http://HEAD:8265) or a Slurm job (--slurm)."""
    from suite.sweep.loading import resolve_spec_path
    from suite.sweep.spec import SpecError

    own = SimpleNamespace(**{p.name: values.pop(p.name) for p in SUBMIT_ONLY})
    options = sweep_options(values)
    if bool(own.address) == bool(own.slurm):
        fail("give exactly one of --address http://HEAD:8265 (a Ray cluster's Jobs API) or --slurm")
    check_environment()
    if own.script is not None and own.script.expanduser().is_dir():
        fail(f"--script {own.script}: a folder is there; allowed: a file path (new, or a script to replace)")
    # Validate here, before anything is sent: the same spec and flags must load (and expand) on the cluster.
    spec = expanded(name, options).spec
    check_search(options, options.adaptive or spec.adaptive is not None)
    try:
        spec_path = resolve_spec_path(name)
    except SpecError as exc:
        fail(str(exc))
    own.results = _shared_results(own.results)
    if own.address:
        _to_ray(name, spec.name, spec_path, own, options.flags())
    else:
        _to_slurm(name, spec, spec_path, own, options.flags())


def _shared_results(results: str) -> str:
    """--results as the nodes get it: a URI as given, a path checked and made absolute (with a note)."""
    from suite.results.files import check_root

    if "://" in results:
        return results
    try:
        check_root(results)  # not empty, not a file, not a symbolic link loop
    except OSError as exc:
        fail(f"--results {results}: {exc}")
    results = str(Path(results).expanduser().resolve())
    err_console.print(f"note: results go to {results} on the cluster's nodes; it must be a path they all reach "
                      f"(or pass --results s3://...)", highlight=False, markup=False, soft_wrap=True)
    return results


def _say(*lines: str, markup: bool = False) -> None:
    for line in lines:
        console.print(line, highlight=False, markup=markup, soft_wrap=True)


def _to_ray(name: str, sweep: str, spec_path: Path, own: SimpleNamespace, extra: list[str]) -> None:
    """Submit (or with --dry-run, describe) the sweep as a Ray job; with --wait, its logs and exit 1 unless it
    succeeded."""
    from suite.run.guard.process import sigterm_as_interrupt
    from suite.run.cluster.submit import SubmitError, job_commands, ray_job_plan, submit_ray_job, wait_for_job

    if own.dry_run:
        entrypoint, upload = ray_job_plan(name, spec_path, own.results, data=own.data, extra=extra)
        _say(f"would submit sweep {sweep} as a Ray job to {own.address}; nothing sent (--dry-run)",
             f"entrypoint: {entrypoint}", f"working directory uploaded: {upload}")
        return
    try:
        with sigterm_as_interrupt():
            job_id, entrypoint = submit_ray_job(own.address, name, spec_path, own.results, data=own.data,
                                                extra=extra)
    except SubmitError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail(f"interrupted (Ctrl-C or SIGTERM) while submitting to {own.address}: nothing was submitted", code=130)
    _say(f"submitted sweep {sweep} as Ray job [bold]{job_id}[/] to {own.address}", markup=True)
    _say(f"entrypoint: {entrypoint}", *job_commands(own.address, job_id))
    if own.wait:
        status, logs = wait_for_job(own.address, job_id)
        _say(logs, f"Ray job {job_id}: {status}")
        if status != "SUCCEEDED":
            raise typer.Exit(1)


def _to_slurm(name: str, spec, spec_path: Path, own: SimpleNamespace, extra: list[str]) -> None:
    """Write and sbatch the batch script (with --dry-run: print it); with --wait, exit 1 if the job failed."""
    from suite.run.cluster.gpu_share import share_for_allocation
    from suite.run.cluster.slurm import slurm_script, submit_slurm, write_script
    from suite.run.cluster.submit import SubmitError, spec_for_slurm

    gpu_flags, warning = share_for_allocation(spec.gpus_per_trial, own.gpus_per_node, spec.model, spec.dataset)
    if warning:
        err_console.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
    # The script changes into the project first: every path in it is absolute (see suite/run/cluster/slurm.py).
    data = own.data
    if data is not None:
        try:
            data = str(Path(data).expanduser().resolve())
        except (RuntimeError, OSError) as exc:  # a symbolic link loop
            fail(f"--data {data}: cannot be resolved ({exc}); allowed: a folder path the nodes reach")
    path = (own.script or Path(f"bench-{spec.name}.sbatch")).expanduser()
    try:
        # The packing rule's GPU share goes on too, so the nodes' GPUs are used (suite/run/cluster/gpu_share.py).
        text = slurm_script(spec_for_slurm(name, spec_path), own.results, nodes=own.nodes,
                            gpus_per_node=own.gpus_per_node, cpus_per_node=own.cpus_per_node,
                            time_limit=own.time_limit, partition=own.partition, data=data, extra=extra + gpu_flags)
        if own.dry_run:
            # stdout is the script alone, byte for byte, so `> FILE` saves it; the note goes to stderr.
            typer.echo(text, nl=not text.endswith("\n"))
            err_console.print(f"nothing written or submitted (--dry-run); without it, the script goes to {path} "
                              f"and is submitted with sbatch", highlight=False, soft_wrap=True)
            return
        write_script(path, text)
        job = submit_slurm(path, wait=own.wait)
    except SubmitError as exc:
        fail(str(exc))
    _say(f"{job.answer} (script {path}); its output: {job.output(f'bench-{spec.name}')} in the folder sbatch ran in")
    if own.wait and job.status != 0:
        err_console.print(f"the Slurm job ended with exit status {job.status}", highlight=False)
        raise typer.Exit(1)


NAME = inspect.Parameter("name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
                         default=typer.Argument(..., help="Sweep name or path to a YAML spec."))
# typer reads the options off the signature: the spec, where it goes, the sweep options it passes on.
submit.__signature__ = inspect.Signature([NAME] + list(SUBMIT_ONLY) + sweep_option_parameters(submit=True))
app.command("submit")(submit)
