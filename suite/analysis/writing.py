"""`write_report`: a sweep's store -> the registered tables' files (md, csv, tex), the registered figures'
files (png, pdf), index.md and index.html. The only module of the analysis that writes files; which
tables and figures there are is `suite.analysis.report_registry`'s to say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from suite.analysis.configurations import complete_rows, sections
from suite.analysis.data_selection import protocol_text, select_data
from suite.analysis.estimates import LevelEstimate
from suite.analysis.html_report import ReportPage, write_html_report
from suite.analysis.paper import side_by_side
from suite.analysis.rendering import to_csv, to_latex, to_markdown
from suite.analysis.report_index import SEARCH_COLUMNS, SEARCHES_FILE, index_markdown, missing_methods, store_notes
from suite.analysis.report_parts import ReportContext, ReportFigure, ReportTable
from suite.analysis.report_registry import FIGURES, TABLES
from suite.analysis.report_tables import ABSOLUTE_TABLE_NAME
from suite.analysis.staging import publish, staging_folder
from suite.analysis.tables import DEFAULT_EPS, check_absolute_thresholds
from suite.analysis.terminal import print_table
from suite.analysis.training_length import mixed_lengths_notes, select_epochs
from suite.results.store import SweepData, load_sweep

if TYPE_CHECKING:  # rich is only needed by the terminal renderer
    import rich.console
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class ReportOptions:
    """What a report is asked for, besides its store and folder (`write_report`'s keyword arguments).

    `tables` / `plots`: names of registered tables and figures (`report_registry`; None: every one).
    `absolute_thresholds` (test accuracies as fractions, e.g. `tables.PAPER_FMNIST_LENET300_THRESHOLDS`):
    Table 1 at those thresholds too, as ABSOLUTE_TABLE_NAME. `grid_trials` (the trial count of the sweep
    spec's full grid): the index sets the trials in the store against it. `searches` (an adaptive sweep's
    searches, records with SEARCH_COLUMNS): written to SEARCHES_FILE, and the index says which cells can
    still move. `epochs`: only the trials trained for that many epochs (an UnknownEpochsError names the
    lengths there are); without it, a store holding several is reported whole, with a note saying so
    (`suite.analysis.training_length`). Rows of one data only: `data_fingerprint`'s, by default the newest
    trial's (`suite.analysis.data_selection`, UnknownDataError); the index names it and the others. `paper`
    (the spec's `suite.sweep.paper_spec.PaperValues`): paper.md sets the cells beside the paper's, and the
    figures draw the paper's methods only unless `all_methods`. `complete_only`: configurations measured on
    fewer seeds than their section's most are left out (`configurations.complete_rows`), with a note.
    `estimates` (`suite.analysis.estimates.LevelEstimate`, the shared search's estimated level cells): Table 2
    and paper.md show them in place of the measured rule's cell, marked as estimates."""

    tables: Iterable[str] | None = None
    plots: Iterable[str] | None = None
    eps: Sequence[float] = DEFAULT_EPS
    expected_methods: Sequence[str] | None = None
    absolute_thresholds: Sequence[float] | None = None
    grid_trials: int | None = None
    epochs: int | None = None
    searches: Sequence[dict] | None = None
    data_fingerprint: str | None = None
    eps_mode: str = "points"
    paper: object = None
    all_methods: bool = False
    complete_only: bool = False
    estimates: Sequence[LevelEstimate] = ()


def _safe_name(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", str(p)) for p in parts)


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write_table(out: Path, name: str, table: pd.DataFrame, display: pd.DataFrame, caption: str) -> list[Path]:
    return [
        _write_text(out / f"{name}.md", to_markdown(display, caption)),
        _write_text(out / f"{name}.csv", to_csv(table)),
        _write_text(out / f"{name}.tex", to_latex(display, caption, label=f"tab:{name}")),
    ]


def _write_figure(out: Path, name: str, fig: Figure) -> list[Path]:
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=200, bbox_inches="tight")
    # No creation date: a re-written report changes its PDFs only where their content changes.
    fig.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None})
    return paths


def _names(requested: Iterable[str] | None) -> list[str] | None:
    return None if requested is None else [requested] if isinstance(requested, str) else list(requested)


def _entries(requested: list[str] | None, registry, what: str) -> list:
    """The registered entries asked for (None: every one), in report order; a ValueError naming the
    registered ones for a name that is not."""
    order = registry.in_registration_order()
    unknown = [r for r in requested or () if r not in registry]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {[entry.name for entry in order]}")
    return order if requested is None else [entry for entry in order if entry.name in requested]


def _selected_parts(options: ReportOptions) -> tuple[list[ReportTable], list[ReportFigure]]:
    """The tables and figures to write: those asked for (a bare string is one name), and Table 1 at
    absolute thresholds whenever they are given (asked for without them, a ValueError)."""
    tables = _names(options.tables)
    if options.absolute_thresholds is not None and tables is not None and ABSOLUTE_TABLE_NAME not in tables:
        tables.append(ABSOLUTE_TABLE_NAME)
    if options.absolute_thresholds is None and ABSOLUTE_TABLE_NAME in (tables or ()):
        raise ValueError(f"table {ABSOLUTE_TABLE_NAME} needs absolute accuracy thresholds (--absolute)")
    return _entries(tables, TABLES, "table(s)"), _entries(_names(options.plots), FIGURES, "plot(s)")


def _selected_data(root: str | Path, sweep: str, options: ReportOptions) -> tuple[SweepData, pd.DataFrame, list[str],
                                                                                  str]:
    """The store's trials on one data and one training length (and, with complete_only, the configurations
    of complete seeds): (the data, its rows, notes on what was left out, the protocol every caption states).
    Before anything is written."""
    data = load_sweep(root, sweep)  # damaged files skipped, copies of rows dropped
    data, _, notes = select_data(data, options.data_fingerprint)
    notes += mixed_lengths_notes(data.rows) if options.epochs is None else []
    if options.epochs is not None:
        data, length_notes = select_epochs(data, options.epochs)
        notes += length_notes
    rows, kept = data.rows, ""
    if options.complete_only:  # a shared ε-search's one-seed points are no configurations a table may pick
        rows, dropped = complete_rows(rows)
        notes += [f"{dropped} configuration(s) measured on fewer seeds than their section's most left out "
                  "(--complete-only)"] if dropped else []
        # In every caption too, so that a table read alone says its cells ignore those points.
        kept = f"; configurations on fewer seeds than their section's most left out ({dropped or 'none here'})"
    return data, rows, notes, protocol_text(rows) + kept


def _say(console: rich.console.Console | None, lines: Iterable[str]) -> None:
    for line in lines if console is not None else ():
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _write_tables(out: Path, sweep: str, ctx: ReportContext, tables: list[ReportTable], console) -> tuple:
    """Each table's md, csv and tex (printed to the console, after the notes its compute added):
    (written paths, {name: numeric table}, {name: (display, caption)})."""
    written, numeric, displays = [], {}, {}
    printed = len(ctx.notes)
    for entry in tables:
        table = entry.compute(ctx)
        if table is None:  # nothing to show in this report
            continue
        display, caption = entry.display(table), entry.caption(ctx)
        numeric[entry.name], displays[entry.name] = table, (display, caption)
        written += _write_table(out, entry.name, table, display, caption + f" {ctx.protocol}.")
        if console is not None:
            _say(console, [f"note: {note}" for note in ctx.notes[printed:]])
            printed = len(ctx.notes)
            print_table(console, display, f"{sweep}: {entry.name}")
    return written, numeric, displays


def _figures(ctx: ReportContext, figures: list[ReportFigure]):
    """(file stem, Figure) of each figure that has data: the whole report's first, then each section's."""
    if figures and ctx.rows.empty:
        ctx.notes.append("no result rows: figures skipped")
        return
    for entry in (f for f in figures if not f.per_section):
        data = entry.compute(ctx, None)
        if data is not None:
            yield entry.name, entry.render(data, ctx.protocol)
    for section in sections(ctx.rows) if figures else ():
        for entry in (f for f in figures if f.per_section):
            data = entry.compute(ctx, section)
            if data is not None:
                yield _safe_name(entry.name, *section), entry.render(data, ctx.protocol)


def _finish(out: Path, final: Path, sweep: str, root: str | Path, data: SweepData, ctx: ReportContext,
            written: list[Path], displays: dict, options: ReportOptions, console) -> list[Path]:
    """index.html, index.md and the searches file; then the report moved into place."""
    notes = list(dict.fromkeys(ctx.notes + store_notes(data, str(root))))
    frame = None if options.searches is None else pd.DataFrame(
        list(options.searches), columns=list(SEARCH_COLUMNS)).astype({"depth": "Int64"})  # None for no depth
    expected = options.expected_methods
    written.append(write_html_report(out, ReportPage(  # the same report as one page, index.html
        sweep, ctx.rows, displays, list(written), data.failures, notes, frame,
        [d.describe(str(root)) for d in data.damaged],
        None if expected is None else missing_methods(ctx.rows, expected), options.grid_trials, data.rows)))
    written.append(_write_text(out / "index.md", index_markdown(sweep, ctx.rows, written, data.failures, notes,
                                                                  expected, options.grid_trials, frame, data.rows)))
    if frame is not None:  # after the index, whose table list it is not in: it links it itself
        written.append(_write_text(out / SEARCHES_FILE, frame.to_csv(index=False)))
        settled = int(frame["settled"].sum())
        _say(console, [f"adaptive: {settled} of {len(frame)} searches settled; {len(frame) - settled} open "
                       f"(listed in index.md and {SEARCHES_FILE})"])
    # A grid's report (or no spec): no searches file from an earlier report stays behind.
    return publish(out, final, written, stale=(SEARCHES_FILE,) if frame is None else ())


def write_report(root: str | Path, sweep: str, out_dir: str | Path, console: rich.console.Console | None = None,
                 **options) -> list[Path]:
    """Load a sweep's store, write the requested tables (md, csv, tex) and figures (png, pdf) plus index.md
    and index.html (the whole report as one self-contained page, `suite.analysis.html_report`) into
    out_dir, and return the written paths. `options`: the fields of `ReportOptions`. Bad input (an unknown
    table, bad thresholds, an unknown training length or data) fails before anything is written.

    Figures are built on bare matplotlib Figures (no pyplot), which save through the Agg/PDF canvases, so
    no display is needed. With a console, each table is also printed to it.
    """
    options = ReportOptions(**options)
    tables, figures = _selected_parts(options)
    absolute = options.absolute_thresholds
    absolute = None if absolute is None else check_absolute_thresholds(absolute)
    data, rows, notes, protocol = _selected_data(root, sweep, options)
    paper = options.paper
    ctx = ReportContext(rows, data.layers, data.history, tuple(options.eps), options.eps_mode, absolute,
                        paper.references() if paper else None,
                        None if options.all_methods or paper is None else frozenset(paper.labels()),
                        protocol, notes, tuple(options.estimates))
    final = Path(out_dir)
    out = staging_folder(final)  # moved into place at the end (suite.analysis.staging)
    _say(console, [f"protocol: {ctx.protocol}"] + [f"note: {note}" for note in notes])
    written, numeric, displays = _write_tables(out, sweep, ctx, tables, console)
    for stem, fig in _figures(ctx, figures):
        written += _write_figure(out, stem, fig)
    if paper is not None and numeric:
        written.append(_write_text(out / "paper.md", side_by_side(numeric.get("compression"),
                                                                   numeric.get("accuracy"), paper, ctx.protocol)))
    written = _finish(out, final, sweep, root, data, ctx, written, displays, options, console)
    if console is not None:
        console.print(f"wrote {len(written)} files to {final}")
    return written


__all__ = ["ABSOLUTE_TABLE_NAME", "SEARCHES_FILE", "SEARCH_COLUMNS", "ReportOptions", "missing_methods",
           "write_report"]
