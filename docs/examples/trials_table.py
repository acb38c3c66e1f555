"""A report table and a report figure written outside the project, as a user's plugin.

`trials` counts, per section and method, the configurations and trials the store holds and their best
test accuracy; `accuracy_spread` draws every trial's test accuracy per method. Each is one entry (a
name, a help line, a compute step from the report's selected rows to its data, and a render step) plus
its registration line; `bench report` then offers, writes and lists it like a built-in:

    bench report NAME --plugin docs/examples/trials_table.py                 # every table, this one too
    bench report NAME --plugin docs/examples/trials_table.py --table trials  # this one alone
    bench report --plugin docs/examples/trials_table.py --help               # listed under --table, --plot

It uses only the public report API: `ReportContext`, `ReportTable`, `ReportFigure` and the registries
`TABLES`, `FIGURES` (docs/extending.md, "Add a table", "Add a figure").
"""

from __future__ import annotations

import pandas as pd

from suite.analysis.report_parts import ReportContext, ReportFigure, ReportTable
from suite.analysis.report_registry import FIGURES, TABLES


def count_trials(ctx: ReportContext) -> pd.DataFrame | None:
    """The numeric table (its CSV): one row per (model, dataset, method)."""
    if ctx.rows.empty:
        return None  # nothing to show: the report writes no file for it
    grouped = ctx.rows.groupby(["model", "dataset", "method"], sort=True)
    return grouped.agg(trials=("config_hash", "nunique"), seeds=("seed", "nunique"),
                       best_test_acc=("test_acc", "max")).reset_index()


def show_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The display cells (Markdown, LaTeX, terminal, HTML); Model and Dataset columns make sections."""
    return pd.DataFrame({"Model": table["model"], "Dataset": table["dataset"], "Method": table["method"],
                         "Trials": table["trials"].astype(str), "Seeds": table["seeds"].astype(str),
                         "Best test accuracy (%)": [f"{100 * a:.2f}" for a in table["best_test_acc"]]})


TRIALS = TABLES.register(ReportTable(
    name="trials", help="trials, seeds and best test accuracy per method (a plugin's example table)",
    compute=count_trials, display=show_trials,
    caption=lambda ctx: "Trials and seeds per method, and the best test accuracy of any of them.",
    title="Trials per method"))


def accuracies(ctx: ReportContext, section: tuple[str, str] | None) -> pd.DataFrame | None:
    """The data to draw: every trial's test accuracy and method (one figure for the whole report)."""
    return None if ctx.rows.empty else ctx.rows[["method", "test_acc"]].dropna()


def draw_accuracies(data: pd.DataFrame, caption: str):
    """A bare matplotlib Figure (no pyplot, no file: the report saves it as PNG and PDF)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3))
    ax = fig.subplots()
    methods = sorted(data["method"].unique())
    for i, method in enumerate(methods):
        values = 100 * data.loc[data["method"] == method, "test_acc"]
        ax.plot([i] * len(values), values, "o", alpha=0.6, label=method)
    ax.set_xticks(range(len(methods)), methods)
    ax.set_ylabel("Test accuracy (%)")
    ax.set_title(caption, fontsize=8)
    return fig


ACCURACY_SPREAD = FIGURES.register(ReportFigure(
    name="accuracy_spread", help="every trial's test accuracy per method (a plugin's example figure)",
    compute=accuracies, render=draw_accuracies))
