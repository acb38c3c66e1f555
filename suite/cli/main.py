"""The `bench` command: thin typer commands over the library."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from suite.paths import DEFAULT_RESULTS

app = typer.Typer(add_completion=False, no_args_is_help=True, help="DWF vs. sparsification baselines: run, sweep, report.")
console = Console()
err_console = Console(stderr=True)



def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.command("list")
def list_command() -> None:
    """List the registered models (with parameter counts), datasets and methods."""
    from suite.core.data import DATASETS
    from suite.methods.base import list_methods
    from suite.core.models import MODELS, build_model

    models = Table(title="models", show_lines=False)
    for col in ("name", "parameters", "on", "description"):
        models.add_column(col)
    natural = {"mnist": ((1, 28, 28), 10), "cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100)}
    for name, spec in sorted(MODELS.items()):
        shape, classes = natural[spec.natural_dataset]
        params = sum(p.numel() for p in build_model(name, classes, shape).parameters())
        models.add_row(name, f"{params:,}", spec.natural_dataset, spec.description)
    console.print(models)
    datasets = Table(title="datasets")
    for col in ("name", "description"):
        datasets.add_column(col)
    for name, spec in sorted(DATASETS.items()):
        datasets.add_row(name, spec.description)
    console.print(datasets)
    methods = Table(title="methods")
    for col in ("name", "needs", "description"):
        methods.add_column(col)
    for method in list_methods():
        needs = sorted(method.requires) + (["compression"] if method.compressions in ("one", "many") else [])
        methods.add_row(method.name, ", ".join(needs), method.description)
    console.print(methods)


def _epoch_progress(total_epochs: int):
    progress = Progress(
        TextColumn("[bold]epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=err_console,
    )
    task = progress.add_task("train", total=total_epochs, stats="")

    def update(epoch: int, epochs: int, record: dict) -> None:
        stats = (f"loss {record['train_loss']:.4f}  test {100 * record['test_acc']:.2f}%  "
                 f"CR {record['compression_ratio']:.1f}  lr {record['lr']:.4f}")
        progress.update(task, completed=epoch, stats=stats)
        if not err_console.is_terminal:
            # No live bar in a log file (Slurm, CI): one line per epoch instead.
            left = progress.tasks[0].time_remaining
            err_console.print(f"epoch {epoch}/{epochs}  {stats}  left {left or 0:.0f}s", soft_wrap=True)

    return progress, update


@app.command()
def run(
    model: str = typer.Option(..., help="Model name (see `bench list`)."),
    dataset: str = typer.Option(..., help="Dataset name (see `bench list`)."),
    method: str = typer.Option(..., help="Method name (see `bench list`)."),
    depth: Optional[int] = typer.Option(None, help="DWF factorization depth D >= 2."),
    lam: Optional[float] = typer.Option(None, help="Regularization strength (DWF/spred lambda, L1 lambda, PILoT alpha)."),
    lr: float = typer.Option(0.15, help="Initial learning rate (cosine annealed)."),
    epochs: int = typer.Option(75, help="Training epochs."),
    batch_size: int = typer.Option(256, help="Mini-batch size."),
    seed: int = typer.Option(0, help="Seed for initialization and data order."),
    compression: list[float] = typer.Option([], help="Target compression ratio (repeatable; GMP evaluates each)."),
    include_bias: bool = typer.Option(False, "--include-bias/--exclude-bias",
                                      help="Score, prune and count biases too (default: weights only)."),
    omega_min: Optional[float] = typer.Option(
        None, help="DWF init: lower bound on |factor| (default: (3e-3)^(1/D), App. G.2's 3e-3 on the product)."),
    base_init: str = typer.Option("kaiming", help="DWF/spred init: base variance, kaiming (2/fan_in) or lecun (1/fan_in)."),
    pilot_schedule: str = typer.Option("budget", help="PILoT regularization schedule."),
    finetune_epochs: int = typer.Option(0, help="gmp: retraining epochs after pruning (>= 1; gmp_oneshot: 0)."),
    weight_decay: float = typer.Option(0.0, help="L2 weight decay of the non-factorized parameters."),
    sweep: str = typer.Option("adhoc", help="Sweep name the row is stored under (one path component)."),
    data: Optional[Path] = typer.Option(None, help="Data root (default: $BENCH_DATA or ~/.cache/bench/data)."),
    download: bool = typer.Option(True, "--download/--no-download", help="Download a missing dataset (torchvision)."),
    results: str = typer.Option(DEFAULT_RESULTS, help="Results root: a directory or a URI (s3://bucket/results)."),
    device: Optional[str] = typer.Option(None, help="cpu, cuda, cuda:1 ... (default: $BENCH_DEVICE, else CUDA if present)."),
) -> None:
    """Run one trial, print its result rows, and write them to the store."""
    from suite.results.checkpoints import CheckpointCache
    from suite.config import ConfigError, TrialConfig
    from suite.core.data import DataError
    from suite.core.devices import DeviceError, check_device
    from suite.run.process_guard import sigterm_as_interrupt
    from suite.results.store import write_trial
    from suite.results.files import StoreWriteError, probe_writable
    from suite.results.layout import StoreNameError, check_sweep_name
    from suite.train import run_trial

    try:
        check_sweep_name(sweep, "--sweep")
        cfg = TrialConfig(model=model, dataset=dataset, method=method, depth=depth, lam=lam, lr=lr, epochs=epochs,
                          batch_size=batch_size, seed=seed, compressions=tuple(compression), include_bias=include_bias,
                          omega_min=omega_min, base_init=base_init, pilot_schedule=pilot_schedule,
                          finetune_epochs=finetune_epochs, weight_decay=weight_decay, sweep=sweep)
        device = check_device(device)
        # Before training: a result that cannot be stored would be lost.
        probe_writable(results)
    except (ConfigError, StoreNameError, DeviceError, StoreWriteError) as exc:
        fail(str(exc))
    progress, update = _epoch_progress(cfg.epochs)
    try:
        with sigterm_as_interrupt(), progress:
            result = run_trial(cfg, data_root=str(data) if data else None, device=device, progress=update,
                               download=download, checkpoints=CheckpointCache(results))
    except DataError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted (Ctrl-C or SIGTERM): the trial did not finish and nothing was written", code=130)
    try:
        path = write_trial(results, cfg.sweep, result)
    except OSError as exc:
        fail(f"--results {results}: the trial finished but its result could not be written: {exc}")
    _print_rows(result.rows)
    console.print(f"wrote {len(result.rows)} row(s) to {path}")


def _print_rows(rows: list[dict]) -> None:
    """One column per row (a trial has few rows, a row many fields)."""
    fields = ["method", "model", "dataset", "depth", "lam", "lr", "seed", "epochs", "point", "target_compression",
              "status", "test_acc", "train_acc", "test_loss", "total_params", "nonzero_params", "compression_ratio",
              "sparsity", "l2_norm", "misalignment", "config_hash", "wall_time_s"]
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


@app.command()
def report(
    name: str = typer.Argument(..., help="Sweep name (a folder under the results root)."),
    table: list[str] = typer.Option([], help="Table: compression (paper Table 1) or accuracy (Table 2). Repeatable."),
    plot: list[str] = typer.Option([], help="Figure: pareto, layers or dynamics. Repeatable."),
    eps: list[float] = typer.Option([5.0, 10.0], help="Accuracy tolerance in percentage points (repeatable)."),
    results: str = typer.Option(DEFAULT_RESULTS, help="Results root holding NAME/: a directory or a URI."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default: reports/NAME)."),
) -> None:
    """Turn a sweep's results into tables and figures. With no --table/--plot, writes all of them plus an index."""
    from suite.analysis.report import PLOT_NAMES, TABLE_NAMES, write_report
    from suite.results.store import load_failures, scan_rows
    from suite.results.files import list_folders, list_names
    from suite.results.layout import StoreNameError, check_sweep_name

    try:
        check_sweep_name(name)
    except StoreNameError as exc:
        fail(str(exc))
    for value, allowed, what in ((table, TABLE_NAMES, "--table"), (plot, PLOT_NAMES, "--plot")):
        bad = sorted(set(value) - set(allowed))
        if bad:
            fail(f"{what} {', '.join(bad)} not known; allowed: {', '.join(allowed)}")
    bad_eps = [e for e in eps if not (math.isfinite(e) and 0 < e <= 100)]
    if bad_eps:
        fail(f"--eps {', '.join(f'{e:g}' for e in bad_eps)}: allowed: a number of percentage points in (0, 100]")
    done, damaged = scan_rows(results, name)
    if not done and not damaged and not load_failures(results, name):
        found = [f for f in list_folders(results) if list_names(results, f"{f}/rows", ".parquet")]
        fail(f"no results for sweep {name!r} under {results}/; sweeps with results there: {found or 'none'}")
    everything = not table and not plot
    write_report(results, name, out or Path("reports") / name,
                 tables=TABLE_NAMES if everything else table, plots=PLOT_NAMES if everything else plot,
                 eps=tuple(eps), console=console, expected_methods=_spec_methods(name))


def _spec_methods(name: str) -> list[str] | None:
    """The methods the shipped spec of this sweep name asks for (None: no such spec)."""
    from suite.sweep.loading import available_sweeps, load_spec
    from suite.sweep.spec import SpecError

    if name not in available_sweeps():
        return None
    try:
        return load_spec(name).method_names
    except SpecError:
        return None


# Commands defined in their own modules register on `app` when imported.
from suite.cli import sweep  # noqa: E402,F401


def main() -> None:
    app()


if __name__ == "__main__":
    main()
