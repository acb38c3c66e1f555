"""`write_report`: a sweep's store -> table files (md, csv, tex), figure files
(png, pdf) and an index.md linking them. The only module of the analysis that
writes files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from suite.analysis.configurations import aggregate_configs, complete_rows, sections
from suite.analysis.figure_data import dynamics_selection, layer_selection, pareto_selection
from suite.analysis.html_report import ReportPage, write_html_report
from suite.analysis.rendering import to_csv, to_latex, to_markdown
from suite.analysis.report_tables import ABSOLUTE_TABLE_NAME, REPORT_TABLES, report_tables  # noqa: F401 - re-exported
from suite.analysis.tables import ACCURACY_RULE, DEFAULT_EPS, check_absolute_thresholds
from suite.analysis.terminal import print_table
from suite.analysis.data_selection import protocol_text, provenance_lines, select_data
from suite.analysis.paper import side_by_side
from suite.analysis.staging import publish, staging_folder
from suite.analysis.training_length import mixed_lengths_notes, select_epochs
from suite.results.store import SweepData, load_sweep

if TYPE_CHECKING:  # rich is only needed by the terminal renderer
    import rich.console
    from matplotlib.figure import Figure

REPORT_PLOTS: tuple[str, ...] = ("pareto", "layers", "dynamics")
# An adaptive sweep's searches, one row each (`AdaptivePreview.records`): whether it has settled, and where.
SEARCHES_FILE = "searches.csv"
SEARCH_COLUMNS = ("search", "method", "depth", "cell", "axis", "status", "settled", "trials_stored",
                  "lr_searched", "where")


def missing_methods(rows: pd.DataFrame, expected: Iterable[str]) -> list[str]:
    """Methods the sweep asked for (its spec's `methods`) without a single result row."""
    present = set(rows["method"].dropna()) if not rows.empty else set()
    return [m for m in expected if m not in present]


def _store_notes(data: SweepData, root: str) -> list[str]:
    """What the store check left out of the figures and tables, for the index."""
    notes = [f"skipped a damaged file: {d.describe(root)}" for d in data.damaged]
    if data.duplicates:
        notes.append(f"dropped {data.duplicates} duplicate row(s) (same config_hash, seed and point_id)")
    for table, hashes in data.lacking.items():
        notes.append(f"{len(hashes)} trial(s) lack their {table} table, so they are missing from the figures "
                     f"that use it: {', '.join(hashes)}")
    return notes


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


def _check_names(requested: Iterable[str], allowed: Sequence[str], what: str) -> list[str]:
    # A bare string is one name, not a sequence of letters.
    requested = [requested] if isinstance(requested, str) else list(requested)
    unknown = [r for r in requested if r not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {list(allowed)}")
    return requested


def _failure_line(failure: dict) -> str:
    config = failure.get("config") or {}
    what = ", ".join(f"{k}={config[k]}" for k in ("method", "model", "dataset", "depth", "lam", "seed")
                     if config.get(k) is not None)
    # The first paragraph is the error itself (the traceback and notes follow a blank line).
    error = " ".join((failure.get("error") or "").strip().split("\n\n")[0].split())
    return f"- `{failure.get('config_hash', '?')}` {what}: {error[:500] or 'no error message'}"


def _searches_markdown(searches: pd.DataFrame) -> list[str]:
    lines = ["## Adaptive searches", ""]
    if searches.empty:  # e.g. --methods dense of an adaptive spec
        return lines + ["No adaptive searches for these methods.", ""]
    still_open = searches[~searches["settled"]]
    link = f"Every search, its state and where it stands: [{SEARCHES_FILE}]({SEARCHES_FILE})."
    if still_open.empty:
        return lines + [f"All {len(searches)} searches have settled: the tables hold the adaptive run's final "
                        f"cells. {link}", ""]
    return lines + [f"{len(searches) - len(still_open)} of {len(searches)} searches have settled. Still open, so "
                    "the Table 1 / Table 2 cells they decide can still move when the sweep resumes:", ""] \
        + [f"- {s.where} · {s.trials_stored} trial(s) stored"
           + ("" if s.lr_searched else " · lr auto: not searched yet")
           for s in still_open.itertuples()] + ["", link, ""]


def _index_markdown(sweep: str, rows: pd.DataFrame, written: list[Path], failures: list[dict],
                    notes: list[str], expected_methods: Sequence[str] | None, grid_trials: int | None,
                    searches: pd.DataFrame | None) -> str:
    lines = [f"# Report: {sweep}", ""]
    n_trials = rows["config_hash"].nunique() if not rows.empty else 0
    lines += [f"{len(rows)} result rows from {n_trials} trials; {len(failures)} failed trials.", ""]
    lines += [f"Protocol: {protocol_text(rows)}.", ""] if not rows.empty else []
    lines += ["## Data and provenance", ""] + provenance_lines(rows) + [""] if not rows.empty else []
    if grid_trials:
        # What an adaptive search saved (or how far a grid has come): the same count the sweep's summary prints.
        # An adaptive search may place λ values between a coarse grid's points (or a spec may give only
        # brackets), so it can use more trials than the grid: a share over 100% would read as an error.
        share = (f"{n_trials} of {grid_trials} ({100 * n_trials / grid_trials:.0f}%)" if n_trials <= grid_trials
                 else f"{n_trials}, more than its {grid_trials} (adaptive searches add values between its points)")
        lines += [f"Trials against the sweep spec's full grid: {share}; learning-rate search trials are stored "
                  f"apart ({sweep}/lr_search) and counted in neither.", ""]
    if searches is not None:
        lines += _searches_markdown(searches)
    tables = [p for p in written if p.suffix in {".md", ".csv", ".tex"}]
    figures = [p for p in written if p.suffix == ".png"]
    if tables:
        lines += ["## Tables", ""]
        for stem in dict.fromkeys(p.stem for p in tables):
            links = " · ".join(f"[{p.suffix[1:]}]({p.name})" for p in tables if p.stem == stem)
            lines.append(f"- {stem}: {links}")
        lines += ["", f"Accuracy-table rule: {ACCURACY_RULE}", ""]
    if figures:
        lines += ["## Figures", ""]
        for png in figures:
            lines += [f"### {png.stem}", "", f"![{png.stem}]({png.name})", "", f"[pdf]({png.stem}.pdf)", ""]
    lines += ["## Failed trials", ""]
    lines += [_failure_line(f) for f in failures] or ["None."]
    lines += ["", "## Missing methods", ""]
    if expected_methods is None:
        lines.append("Not judged: no sweep spec named like this sweep, so the methods it asked for are unknown.")
    else:
        missing = missing_methods(rows, expected_methods)
        lines.append(", ".join(missing) if missing else "None: every method of the sweep's spec has results.")
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _report_figures(rows: pd.DataFrame, layers: pd.DataFrame, history: pd.DataFrame, plots: list[str],
                    notes: list[str], only: set[str] | None = None):
    """(file stem, Figure) of each requested plot that has data."""
    from suite.analysis import plots as figures  # matplotlib is only imported when plotting

    if rows.empty:
        notes.append("no result rows: figures skipped")
        return
    caption = protocol_text(rows)  # every figure says what it summarises: epochs, seeds, data, preview
    if "pareto" in plots:
        selection = pareto_selection(aggregate_configs(rows))
        if only:  # the paper's methods by default (--all-methods: every one)
            notes.append(f"pareto: the paper's methods only; left out: "
                         f"{', '.join(sorted(set(selection['label']) - only)) or 'none'} (`--all-methods` draws them)")
            selection = selection[selection["label"].isin(only)]
        yield "pareto", figures.pareto_figure(selection, caption=caption)
    for model, dataset in sections(rows):
        pair = f"{model}/{dataset}"
        if "layers" in plots:
            selection = layer_selection(rows, layers, model=model, dataset=dataset)
            selection = selection[selection["label"].isin(only)] if only else selection
            if selection.empty:
                notes.append(f"layers: no per-layer counts near the chosen compression ratios for {pair}")
            else:
                yield _safe_name("layers", model, dataset), figures.layers_figure(selection, caption=caption)
        if "dynamics" in plots:
            selection = dynamics_selection(history, rows, model=model, dataset=dataset)
            if selection.empty:
                notes.append(f"dynamics: no training history of the default method for {pair}")
            else:
                yield _safe_name("dynamics", model, dataset), figures.dynamics_figure(selection, caption=caption)


def write_report(
    root: str | Path,
    sweep: str,
    out_dir: str | Path,
    tables: Iterable[str] = REPORT_TABLES,
    plots: Iterable[str] = REPORT_PLOTS,
    eps: Sequence[float] = DEFAULT_EPS,
    console: rich.console.Console | None = None,
    expected_methods: Sequence[str] | None = None,
    absolute_thresholds: Sequence[float] | None = None,
    grid_trials: int | None = None,
    epochs: int | None = None,
    searches: Sequence[dict] | None = None,
    data_fingerprint: str | None = None,
    eps_mode: str = "points",
    paper=None,
    all_methods: bool = False,
    complete_only: bool = False,
) -> list[Path]:
    """Load a sweep's store, write the requested tables (md, csv, tex) and figures
    (png, pdf) plus index.md and index.html (the whole report as one self-contained page,
    `suite.analysis.html_report`) into out_dir, and return the written paths.

    With `absolute_thresholds` (test accuracies as fractions, e.g.
    `tables.PAPER_FMNIST_LENET300_THRESHOLDS`), the compression table at those
    absolute thresholds is written too, as ABSOLUTE_TABLE_NAME. With `grid_trials`
    (the trial count of the sweep spec's full grid), the index sets the trials in
    the store against it. With `searches` (an adaptive sweep's searches, records
    with SEARCH_COLUMNS), they are written to SEARCHES_FILE and the index says
    which cells can still move. With `epochs`, only the trials trained for that many
    epochs are read (an UnknownEpochsError names the lengths there are); without
    it, a store holding several is reported whole, with a note saying so
    (`suite.analysis.training_length`). Rows of one data only: `data_fingerprint`'s, by default the newest
    trial's (`suite.analysis.data_selection`, UnknownDataError); the index names it and the others. With
    `paper` (the spec's `suite.sweep.paper_spec.PaperValues`), paper.md sets the cells beside the paper's.
    With `complete_only`, configurations measured on fewer seeds than their section's most are left out
    (`configurations.complete_rows`), with a note.

    Figures are built on bare matplotlib Figures (no pyplot), which save through
    the Agg/PDF canvases, so no display is needed. With a console, each table is
    also printed to it.
    """
    tables = _check_names(tables, REPORT_TABLES, "table(s)")
    plots = _check_names(plots, REPORT_PLOTS, "plot(s)")
    if absolute_thresholds is not None:  # bad input fails before anything is written
        absolute_thresholds = check_absolute_thresholds(absolute_thresholds)
    data = load_sweep(root, sweep)  # damaged files skipped, copies of rows dropped
    data, _, notes = select_data(data, data_fingerprint)  # one data only; before anything is written
    notes += mixed_lengths_notes(data.rows) if epochs is None else []
    if epochs is not None:  # before anything is written
        data, length_notes = select_epochs(data, epochs)
        notes += length_notes
    rows, layers, history, failures = data.rows, data.layers, data.history, data.failures
    if complete_only:  # a shared ε-search's one-seed points are no configurations a table may pick
        rows, dropped = complete_rows(rows)
        notes += [f"{dropped} configuration(s) measured on fewer seeds than their section's most left out "
                  "(--complete-only)"] if dropped else []
    final = Path(out_dir)
    out = staging_folder(final)  # moved into place at the end (suite.analysis.staging)
    written: list[Path] = []
    if console is not None:
        console.print(f"protocol: {protocol_text(rows)}", highlight=False, markup=False, soft_wrap=True)
        for note in notes:
            console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
    printed = len(notes)  # a table may add a note on what it left out: printed above the table
    numeric, displays = {}, {}
    for name, table, display, caption in report_tables(rows, tables, eps, absolute_thresholds, notes, eps_mode,
                                                       paper.references() if paper else None):
        numeric[name] = table
        displays[name] = display, caption
        written += _write_table(out, name, table, display, caption + f" {protocol_text(rows)}.")
        if console is not None:
            for note in notes[printed:]:
                console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
            printed = len(notes)
            print_table(console, display, f"{sweep}: {name}")
    if plots:
        only = None if all_methods or paper is None else paper.labels()
        for stem, fig in _report_figures(rows, layers, history, plots, notes, only):
            written += _write_figure(out, stem, fig)
    if paper is not None and numeric:
        written.append(_write_text(out / "paper.md", side_by_side(numeric.get("compression"), numeric.get("accuracy"),
                                                                   paper, protocol_text(rows))))
    notes = list(dict.fromkeys(notes + _store_notes(data, str(root))))
    frame = None if searches is None else pd.DataFrame(list(searches), columns=list(SEARCH_COLUMNS)).astype(
        {"depth": "Int64"})  # None for methods without a depth: an integer column still
    written.append(write_html_report(out, ReportPage(  # the same report as one page, index.html
        sweep, rows, displays, list(written), failures, notes, frame, [d.describe(str(root)) for d in data.damaged],
        None if expected_methods is None else missing_methods(rows, expected_methods), grid_trials)))
    written.append(_write_text(out / "index.md",
                               _index_markdown(sweep, rows, written, failures, notes, expected_methods,
                                               grid_trials, frame)))
    if frame is not None:  # after the index, whose table list it is not in: it links it itself
        written.append(_write_text(out / SEARCHES_FILE, frame.to_csv(index=False)))
        if console is not None:
            settled = int(frame["settled"].sum())
            console.print(f"adaptive: {settled} of {len(frame)} searches settled; {len(frame) - settled} open "
                          f"(listed in index.md and {SEARCHES_FILE})", highlight=False)
    # A grid's report (or no spec): no searches file from an earlier report stays behind.
    written = publish(out, final, written, stale=(SEARCHES_FILE,) if frame is None else ())
    if console is not None:
        console.print(f"wrote {len(written)} files to {final}")
    return written
