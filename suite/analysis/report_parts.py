"""What a report is made of: registered tables and figures (`suite.analysis.report_registry` lists them).

Each part is an entry with a name (`bench report --table NAME` / `--plot NAME`), a one-line help (what
`bench report --help` lists), a compute step (the report's selected rows, in a `ReportContext`, to the
data it shows) and a render step. A table's compute gives its numeric table (written as CSV) and its
`display` the cells every text renderer shows (Markdown, LaTeX, the terminal, index.html); a figure's
compute gives the data it draws and its `render` a matplotlib Figure (saved as PNG and PDF). Neither
writes a file: `suite.analysis.writing` does, for every part alike. Adding a table or a figure is one
module defining its entry plus its registration line (docs/extending.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class ReportContext:
    """The selected rows of one report (one data, one training length, `--complete-only` applied) and the
    settings its parts read. `notes`: a part adds a line on what it left out; they go to the console
    (before the table), index.md and index.html."""

    rows: pd.DataFrame
    layers: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    eps: Sequence[float] = ()
    eps_mode: str = "points"
    absolute: Sequence[float] | None = None  # Table 1's absolute thresholds (fractions), where asked
    references: Mapping[tuple[str, str], float] | None = None  # the paper's Table 1 cells, where the spec has them
    only: frozenset[str] | None = None  # method labels the figures draw (None: every one)
    protocol: str = ""  # epochs, seeds, data, preview: every caption says what it summarises
    notes: list[str] = field(default_factory=list)
    # Table 2 cells the shared search estimated (`suite.analysis.estimates.LevelEstimate`; `--search shared`)
    estimates: Sequence[Any] = ()


@dataclass(frozen=True)
class ReportTable:
    """A table of the report. `compute`: context -> numeric table, or None where it has nothing to show
    for this report (e.g. no thresholds given); `display`: numeric table -> display cells (strings);
    `caption`: context -> the caption (the report appends the protocol); `title`: the heading in index.html."""

    name: str
    help: str
    compute: Callable[[ReportContext], pd.DataFrame | None]
    display: Callable[[pd.DataFrame], pd.DataFrame]
    caption: Callable[[ReportContext], str]
    title: str = ""


@dataclass(frozen=True)
class ReportFigure:
    """A figure of the report. `compute`: (context, section) -> the data to draw, or None (with a note in
    the context saying why); `render`: (data, caption) -> a matplotlib Figure. A figure `per_section` is
    drawn once per (model, dataset) section, as NAME_model_dataset, its compute given the section; else
    once, as NAME, its compute given None."""

    name: str
    help: str
    compute: Callable[[ReportContext, tuple[str, str] | None], Any]
    render: Callable[[Any, str], Any]
    per_section: bool = False


__all__ = ["ReportContext", "ReportFigure", "ReportTable"]
