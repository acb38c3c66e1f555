"""The `bench` command: the typer app with every command registered (`bench list` here; `bench report` in
suite.cli.report; `bench run` in suite.cli.run; `bench sweep` in suite.cli.sweep, `bench submit` in
suite.cli.submit)."""

from __future__ import annotations

from rich.table import Table

from suite.cli import run, submit, sweep  # noqa: F401 - each registers its commands on `app`
from suite.cli.app import app, console
from suite.config import FIELDS


def catalog() -> dict[str, list[dict]]:
    """What `bench list` shows, as data: the registered models (with parameter counts), datasets and methods."""
    from suite.core.data.registry import DATASETS
    from suite.core.models.registry import MODELS, build_model
    from suite.builtins import METHODS

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


# Registered after `list`, so that `bench --help` lists the commands in their old order.
from suite.cli import report  # noqa: E402,F401


def main() -> None:
    app()


if __name__ == "__main__":
    main()
