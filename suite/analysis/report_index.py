"""index.md of a report: the protocol, provenance, how far the sweep's grid and searches have come, links to
every table and figure, the failed trials, the methods without results and the notes. Text only;
`suite.analysis.writing` writes it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from suite.analysis.data_selection import protocol_text, provenance_lines, trial_time_text
from suite.analysis.tables import ACCURACY_RULE
from suite.results.store import SweepData

# An adaptive sweep's searches, one row each (`AdaptivePreview.records`): whether it has settled, and where.
SEARCHES_FILE = "searches.csv"
SEARCH_COLUMNS = ("search", "method", "depth", "cell", "axis", "status", "settled", "trials_stored",
                  "lr_searched", "where")


def missing_methods(rows: pd.DataFrame, expected: Iterable[str]) -> list[str]:
    """Methods the sweep asked for (its spec's `methods`) without a single result row."""
    present = set(rows["method"].dropna()) if not rows.empty else set()
    return [m for m in expected if m not in present]


def store_notes(data: SweepData, root: str) -> list[str]:
    """What the store check left out of the figures and tables, for the index."""
    notes = [f"skipped a damaged file: {d.describe(root)}" for d in data.damaged]
    if data.duplicates:
        notes.append(f"dropped {data.duplicates} duplicate row(s) (same config_hash, seed and point_id)")
    for table, hashes in data.lacking.items():
        notes.append(f"{len(hashes)} trial(s) lack their {table} table, so they are missing from the figures "
                     f"that use it: {', '.join(hashes)}")
    return notes


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


def index_markdown(sweep: str, rows: pd.DataFrame, written: list[Path], failures: list[dict],
                    notes: list[str], expected_methods: Sequence[str] | None, grid_trials: int | None,
                    searches: pd.DataFrame | None, stored: pd.DataFrame | None = None) -> str:
    """`stored`: every trial of the reported data, one-seed points a --complete-only report leaves out of its
    tables included: what the compute and the trial counts are of (default: `rows`)."""
    lines = [f"# Report: {sweep}", ""]
    n_trials = rows["config_hash"].nunique() if not rows.empty else 0
    lines += [f"{len(rows)} result rows from {n_trials} trials; {len(failures)} failed trials.", ""]
    lines += [f"Protocol: {protocol_text(rows)}.", ""] if not rows.empty else []
    lines += ["## Data and provenance", ""] + provenance_lines(rows) + [""] if not rows.empty else []
    stored = rows if stored is None else stored
    lines += [f"Compute: {trial_time_text(stored, grid_trials)}.", ""] if not stored.empty else []
    if grid_trials:
        # What an adaptive search saved (or how far a grid has come): the same count the sweep's summary prints.
        # An adaptive search may place λ values between a coarse grid's points (or a spec may give only
        # brackets), so it can use more trials than the grid: a share over 100% would read as an error.
        n_trials = stored["config_hash"].nunique() if not stored.empty else 0
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


__all__ = ["SEARCHES_FILE", "SEARCH_COLUMNS", "index_markdown", "missing_methods", "store_notes"]
