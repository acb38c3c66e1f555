"""`bench run`: one trial from the command line, with an option for every config field.

The options are generated from the field metadata (suite.config for the shared protocol, each built-in
method's own parameters for theirs), so every trial a sweep runs can be run by hand: `--momentum`,
`--schedule`, `--pilot-budget`, ... exist because the fields do. A method parameter's option defaults to
the method's own default; a plugin's parameters, unknown when the options are made, are set with
`--param NAME=VALUE`.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from suite.cli.app import app, check_environment, console, err_console, fail
import yaml

from suite.builtins import BUILT_IN
from suite.config import DEFAULTS, FIELDS, REQUIRED_FIELDS, ConfigError, TrialConfig
from suite.fields import info_of
from suite.limits import threads_problem
from suite.paths import DEFAULT_RESULTS
from suite.run.progress import format_duration

# The options of `bench run` that are not config fields: where and how the trial runs, not what it is.
RUN_OPTIONS = (
    inspect.Parameter("data", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path], default=typer.Option(
        None, help="Data root (default: $BENCH_DATA or ~/.cache/bench/data).")),
    inspect.Parameter("plugin", inspect.Parameter.KEYWORD_ONLY, annotation=list[str], default=typer.Option(
        [], help="A plugin to import first (a module name, or a .py file) that registers its own method, model "
                 "or dataset; repeatable. The same as a spec's `plugins:` (docs/extending.md).")),
    inspect.Parameter("param", inspect.Parameter.KEYWORD_ONLY, annotation=list[str], default=typer.Option(
        [], help="A method parameter as NAME=VALUE (VALUE read as YAML: 3, 0.5, text, null), e.g. a plugin's "
                 "own, which has no option of its own; repeatable.")),
    inspect.Parameter("download", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=typer.Option(
        True, "--download/--no-download", help="Download a missing dataset (torchvision).")),
    inspect.Parameter("results", inspect.Parameter.KEYWORD_ONLY, annotation=str, default=typer.Option(
        DEFAULT_RESULTS, help="Results root: a directory or a URI (s3://bucket/results).")),
    inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str], default=typer.Option(
        None, help="cpu, cuda, cuda:1 ... (default: $BENCH_DEVICE, else CUDA if present).")),
    inspect.Parameter("rerun", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=typer.Option(
        False, "--rerun", help="Train even when the store already holds this trial, and replace its result.")),
    # Float reductions depend on the thread count, so a CPU trial re-runs to the same number only with
    # the threads it was trained with: a sweep trial has one per CPU it holds (cpus_per_trial, 1 by
    # default). Measured: DWF D=3 λ 1.33e-3 seed 0 gave 84.53% / CR 397 on 1 thread, 84.62% / CR 393 on 2.
    inspect.Parameter("threads", inspect.Parameter.KEYWORD_ONLY, annotation=int, default=typer.Option(
        1, help="CPU threads for torch (>= 1). 1 re-runs a sweep trial of the default cpus_per_trial to the "
                "same number; a sweep with cpus_per_trial N needs N.")),
)


def _method_options() -> dict[str, tuple[object, object, list[str]]]:
    """The built-in methods' own parameters: name -> (FieldInfo, value type, the methods that have it)."""
    out: dict[str, tuple[object, object, list[str]]] = {}
    for method in BUILT_IN:
        hints = typing.get_type_hints(method.params)
        for f in dataclasses.fields(method.params):
            kind = next((t for t in typing.get_args(hints[f.name]) if t is not type(None)), hints[f.name])
            out.setdefault(f.name, (info_of(f), kind, []))[2].append(method.name)
    return out


METHOD_OPTIONS = _method_options()


def config_parameters() -> list[inspect.Parameter]:
    """One typer option per config field: its type, default and help from the field's metadata; one per
    built-in method parameter, unset by default (the method's own default)."""
    hints = typing.get_type_hints(TrialConfig)
    out = []
    for name, info in FIELDS.items():
        annotation, default = hints[name], DEFAULTS[name]
        if info.singular:
            # A list field is one repeatable option of its item type (`--compression 10 --compression 100`).
            (item, _ellipsis) = typing.get_args(annotation)
            annotation, default, decls = list[item], list(default), (f"--{info.singular.replace('_', '-')}",)
        else:
            decls = (info.flags,) if info.flags else ()
        option = typer.Option(... if name in REQUIRED_FIELDS else default, *decls, help=info.help)
        out.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=option))
    for name, (info, kind, methods) in METHOD_OPTIONS.items():
        option = typer.Option(None, help=f"{info.help} [{', '.join(methods)} only; default: the method's own]")
        out.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Optional[kind], default=option))
    return out


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`--param NAME=VALUE` pairs -> {NAME: VALUE}, each VALUE read as YAML (as a spec would give it)."""
    out = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {pair!r} is not allowed; allowed: NAME=VALUE, e.g. scope=layer")
        out[name.strip()] = yaml.safe_load(text)
    return out


def config_from_options(options: dict[str, Any], params: list[str] = ()) -> TrialConfig:
    """The TrialConfig of parsed `bench run` options (the list options back to tuples; method parameters
    only where given)."""
    values = {name: tuple(options[name]) if FIELDS[name].singular else options[name] for name in FIELDS}
    values.update({name: options[name] for name in METHOD_OPTIONS if options.get(name) is not None})
    extra = parse_params(list(params))
    # A shared field has its own option; a method parameter may come either way, but only once.
    twice = sorted(n for n in extra if n in FIELDS or (n in METHOD_OPTIONS and options.get(n) is not None))
    if twice:
        flags = ", ".join(f"--{n.replace('_', '-')}" for n in twice)
        raise ConfigError(f"--param {', '.join(twice)}: allowed: a method parameter not also given as its own "
                          f"option ({flags}); give each value once")
    return TrialConfig(**values, **extra)


def _epoch_progress(total_epochs: int):
    progress = Progress(
        TextColumn("[bold]epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=err_console,
        disable=not err_console.is_terminal,  # a log gets the lines below, not the bar's last frame too
    )
    task = progress.add_task("train", total=total_epochs, stats="")

    def update(epoch: int, epochs: int, record: dict) -> None:
        stats = (f"loss {record['train_loss']:.4f}  test {100 * record['test_acc']:.2f}%  "
                 f"CR {record['compression_ratio']:.1f}  lr {record['lr']:.4f}")
        progress.update(task, completed=epoch, stats=stats)
        if not err_console.is_terminal:
            # No live bar in a log file (Slurm, CI): one line per epoch instead.
            # time_remaining is None until rich has a pace (after the first epoch): "?", not "0s".
            left = format_duration(progress.tasks[0].time_remaining)
            err_console.print(f"epoch {epoch}/{epochs}  {stats}  left {left}", soft_wrap=True)

    return progress, update


def run(**options: Any) -> None:
    """Run one trial, print its result rows, and write them to the store."""
    from suite.core.data.root import DataError
    from suite.core.devices import DeviceError, check_device
    from suite.methods.validation import validate_trial
    from suite.results.files import StoreWriteError, probe_writable
    from suite.results.layout import StoreNameError, check_sweep_name

    data, plugin, param, download, results, device, rerun, threads = (options.pop(p.name) for p in RUN_OPTIONS)
    check_environment()  # $BENCH_COMPILE, before any work
    if threads_problem(threads) is not None:
        fail(threads_problem(threads))
    if plugin:
        from suite.sweep.parsing import import_plugins

        try:
            import_plugins(plugin)
        except Exception as exc:  # noqa: BLE001 - any failure to import a plugin is the user's to fix
            fail(f"--plugin {', '.join(plugin)}: cannot import it: {type(exc).__name__}: {exc}")
    try:
        check_sweep_name(options["sweep"], "--sweep")
        cfg = config_from_options(options, param)
        validate_trial(cfg)
        device = check_device(device)
        # Before training: a result that cannot be stored would be lost.
        probe_writable(results)
    except (ConfigError, StoreNameError, DeviceError, StoreWriteError) as exc:
        fail(str(exc))
    if cfg.data_fingerprint is None:  # pinned to the data found, so the store keeps other data's trials apart
        from suite.core.data.registry import dataset_identity

        try:
            found = dataset_identity(cfg.dataset, str(data) if data else None, download=download)
        except DataError as exc:
            fail(str(exc))
        cfg = dataclasses.replace(cfg, data_fingerprint=found.fingerprint)
    from suite.run.guard.driver_lock import DriverLock, LockLost, StoreBusy
    from suite.run.guard.store import lost_as_error

    # One driver per sweep and store, as `bench sweep` (suite/run/guard/driver_lock.py): no trial trained by both.
    try:
        with DriverLock(str(results), cfg.sweep) as lock, lost_as_error(lock):
            _train_and_store(cfg, results, data, download, device, rerun, threads, lock)
    except StoreBusy as exc:
        fail(str(exc))
    except LockLost as exc:
        fail(f"{exc}; nothing was written", code=1)


def _train_and_store(cfg, results, data, download, device, rerun: bool, threads: int, lock) -> None:
    from suite.results.check import quarantine
    from suite.results.layout import table_path
    from suite.results.store import stored_rows, trial_blockers, where

    # Nothing finished is trained twice (as in a sweep) unless asked.
    try:
        stored = None if rerun else stored_rows(results, cfg.sweep, cfg.config_hash)
        # A non-file where the result goes (a directory at its rows path ...) is moved aside before training.
        moved = quarantine(str(results), trial_blockers(results, cfg.sweep, cfg.config_hash))
    except OSError as exc:  # StoreReadError (a file this user may not read), or what cannot be moved
        fail(f"--results {results}: {exc}")
    for damage in moved:
        err_console.print(f"set aside: {damage.describe(str(results))}", markup=False, highlight=False)
    claim = None
    if stored is None:
        claim, stored = _claim(cfg, results, rerun)
    if stored is not None:
        _print_rows(stored)
        console.print(f"already in the store ({where(results, table_path(cfg.sweep, 'rows', cfg.config_hash))}): "
                      "nothing trained; --rerun trains it again and replaces it")
        return
    try:
        _train_claimed(cfg, results, data, download, device, threads, lock, claim)
    finally:
        claim.release()


def _claim(cfg, results, rerun: bool):
    """(the trial's claim, held; None) or (None, its rows) when a sweep's worker that was training it stored it
    meanwhile (suite/run/guard/trial_claim.py: a trial in flight elsewhere is waited for, never trained by both)."""
    from suite.results.store import stored_rows
    from suite.run.guard.driver_lock import lock_ticket
    from suite.run.guard.trial_claim import ClaimBlocked, claim_for, claim_trial

    claim = claim_for(str(results), cfg.sweep, cfg.config_hash, lock_ticket(str(results), cfg.sweep))
    try:
        stored = claim_trial(claim, (lambda: None) if rerun else (lambda: stored_rows(results, cfg.sweep,
                                                                                     cfg.config_hash)),
                             say=lambda text: err_console.print(text, markup=False, highlight=False, soft_wrap=True))
    except (ClaimBlocked, OSError) as exc:
        fail(f"--results {results}: {exc}")
    if claim.note:
        err_console.print(f"note: {claim.note}", markup=False, highlight=False, soft_wrap=True)
    return (None, stored) if stored else (claim, None)


def _train_claimed(cfg, results, data, download, device, threads: int, lock, claim) -> None:
    from suite.core.data.root import DataError
    from suite.results.checkpoints import CheckpointCache
    from suite.results.store import UnstorableResult, write_trial
    from suite.run.guard.process import sigterm_as_interrupt
    from suite.methods.base import StartError
    from suite.run.guard.trial_claim import ClaimLost
    from suite.train import run_trial

    import torch

    torch.set_num_threads(threads)
    progress, update = _epoch_progress(cfg.epochs)

    def each_epoch(*args) -> None:
        claim.check()  # ClaimLost: another process took the claim over while this one was stopped
        update(*args)

    try:
        with sigterm_as_interrupt(), progress:
            result = run_trial(cfg, data_root=str(data) if data else None, device=device, progress=each_epoch,
                               download=download, checkpoints=CheckpointCache(results))
    except (DataError, StartError) as exc:
        fail(str(exc))
    except ClaimLost as exc:
        fail(f"{exc}; nothing was written", code=1)
    except KeyboardInterrupt:
        if lock.lost:
            raise
        fail("interrupted (Ctrl-C or SIGTERM): the trial did not finish and nothing was written", code=130)
    try:
        path = write_trial(results, cfg.sweep, result)
    except (OSError, UnstorableResult) as exc:
        fail(f"--results {results}: the trial finished but its result could not be written: {exc}")
    _print_rows(result.rows)
    console.print(f"wrote {len(result.rows)} row(s) to {path}")


# typer reads the options off the signature: the config's fields, then the run options.
run.__signature__ = inspect.Signature(config_parameters() + list(RUN_OPTIONS))
app.command("run")(run)


def _print_rows(rows: list[dict]) -> None:
    """One column per row (a trial has few rows, a row many fields)."""
    fields = ["method", "model", "dataset", "depth", "lam", "lr", "seed", "epochs", "point", "target_compression",
              "status", "test_acc", "train_acc", "test_loss", "total_params", "nonzero_params", "compression_ratio",
              "sparsity", "l2_norm", "misalignment", "config_hash", "wall_time_s", "data_fingerprint", "threads",
              "git_commit"]
    table = Table(title="result", show_header=len(rows) > 1)
    table.add_column("field", style="bold")
    for i in range(len(rows)):
        table.add_column(f"row {i}")
    for name in fields:
        table.add_row(name, *(_format_cell(name, row.get(name)) for row in rows))
    console.print(table)


def _format_cell(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{100 * value:.2f}%" if name in ("test_acc", "train_acc", "sparsity") else f"{value:.6g}"
    return str(value)
