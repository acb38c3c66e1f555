"""A report's cells beside the paper's (the spec's `paper:` key, `suite.sweep.paper_spec`), with the
fidelity tolerances: Table 1 within ±25% of the paper's compression ratio; Table 2 within 2 points, or
the paper's std + 1 where that is larger. A cell with no value of ours is shown and not judged."""

from __future__ import annotations

import math

import pandas as pd

from suite.analysis.estimates import estimated, has_estimates
from suite.analysis.intervals import REFERENCE_TOLERANCE
from suite.analysis.rendering import estimate_text, measured_at
from suite.analysis.selections import measured_sparser

ACCURACY_POINTS = 2.0  # Table 2 tolerance: 2 points, or the paper's std + 1 where larger
ESTIMATED = (" 'est. [lo, hi] (CR a–b)': the shared search estimated the cell at the level itself, linear in log "
             "CR between two configurations measured on every seed (median CRs a and b) that bracket it, [lo, hi] "
             "its error bound (Table 2's caption states the rule); ✗ judges the estimate.")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


def within_accuracy(ours_percent: float, paper_mean: float, paper_std: float) -> bool:
    return abs(ours_percent - paper_mean) <= max(ACCURACY_POINTS, paper_std + 1.0)


def compression_lines(table: pd.DataFrame, paper) -> list[str]:
    """Markdown: Table 1 cells (ours with the seed bootstrap's interval and p) beside the paper's."""
    keys = sorted({k for cells in paper.compression.values() for k in cells}, key=float)
    table = paper.section(table)
    if not keys or table.empty:
        return []
    ours = table.set_index("label")
    header = " | ".join(f"ε = {k}: ours | paper | within ±{100 * REFERENCE_TOLERANCE:g}%" for k in keys)
    lines = [f"| method | {header} |", "| --- |" + " --- |" * (3 * len(keys))]
    for label, cells in paper.compression.items():
        parts = []
        for key in keys:
            reference = cells.get(key)
            value = ours.at[label, f"cr@{key}"] if label in ours.index and f"cr@{key}" in ours else None
            if reference is None:
                parts += ["", "", ""]
            elif _missing(value):
                parts += ["–", f"{reference:g}", "none qualifies" if label in ours.index else "not run"]
            else:
                lo, hi, p = (ours.at[label, f"{c}@{key}"] if f"{c}@{key}" in ours else None
                             for c in ("cr_lo", "cr_hi", "p25"))
                interval = "" if _missing(lo) else f" [{lo:.0f}–{hi:.0f}]"
                verdict = "yes" if abs(value / reference - 1) <= REFERENCE_TOLERANCE else "**no**"
                parts += [f"{value:.0f}{interval}", f"{reference:g}",
                          verdict + ("" if _missing(p) else f" (p {p:.2f})")]
        lines.append(f"| {label} | " + " | ".join(parts) + " |")
    return lines


def _ours(row: pd.Series, level: float) -> str:
    """Our Table 2 cell: 'mean ± std', '(at CR N)' where a sparser configuration filled it; an estimate as
    the table shows it (`rendering.estimate_text`)."""
    key = f"{level:g}"
    if estimated(row, key):
        return estimate_text(row, key)
    value, spread, sparsity = row[f"mean@{key}"], row[f"std@{key}"], row[f"sparsity@{key}"]
    where = f" ({measured_at(sparsity)})" if not _missing(sparsity) and measured_sparser(level, sparsity) else ""
    return f"{100 * value:.2f}" + ("" if _missing(spread) else f" ± {100 * spread:.2f}") + where


def accuracy_lines(table: pd.DataFrame, paper) -> list[str]:
    """Markdown: Table 2 cells, ours / paper, ✗ where outside the tolerance."""
    table = paper.section(table)
    if not paper.accuracy or table.empty:
        return []
    ours = table.set_index("label")
    sparsities = [round(1 - 1 / cr, 6) for cr in paper.levels]
    lines = ["| method | " + " | ".join(f"{100 * s:g}%" for s in sparsities) + " |",
             "| --- |" + " --- |" * len(sparsities)]
    for label, pairs in paper.accuracy.items():
        cells = []
        for level, (mean, std) in zip(sparsities, pairs):
            column = f"mean@{level:g}"
            value = ours.at[label, column] if label in ours.index and column in ours else None
            if _missing(value):
                cells.append(f"– / {mean:.2f}")
                continue
            mark = "" if within_accuracy(100 * value, mean, std) else " **✗**"
            cells.append(f"{_ours(ours.loc[label], level)} / {mean:.2f}{mark}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def side_by_side(compression: pd.DataFrame | None, accuracy: pd.DataFrame | None, paper, protocol: str) -> str:
    """The whole comparison as Markdown (paper.md of a report)."""
    parts = ["# Ours beside the paper", "", f"Paper: {paper.source or 'the sweep spec’s `paper` key'}.",
             f"Ours: {protocol}.", ""]
    table1 = compression_lines(compression, paper) if compression is not None else []
    if table1:
        parts += ["## Table 1: compression ratio within ε of the dense accuracy", "",
                  f"Ours with the seed bootstrap's 95% interval; 'p': the bootstrap probability of lying within "
                  f"±{100 * REFERENCE_TOLERANCE:g}% of the paper's value.", ""] + table1 + [""]
    table2 = accuracy_lines(accuracy, paper) if accuracy is not None else []
    if table2:
        parts += ["## Table 2: test accuracy (%) at fixed sparsity, ours / paper", "",
                  f"✗: outside {ACCURACY_POINTS:g} points, or the paper's std + 1 where larger; (at CR N): the cell "
                  "was filled by a sparser configuration, as the table's rule allows." + (ESTIMATED if has_estimates(
                      accuracy) else ""), ""] + table2 + [""]
    return "\n".join(parts) + "\n"


__all__ = ["ACCURACY_POINTS", "accuracy_lines", "compression_lines", "side_by_side", "within_accuracy"]
