"""The tables a report writes: each as (file stem, numeric table, display table, caption), with the seed
bootstrap's intervals (`suite.analysis.intervals`) on every cell. Pure: rows in, tables out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from suite.analysis.configurations import sections_without_dense
from suite.analysis.intervals import LEVEL, REFERENCE_TOLERANCE, accuracy_intervals, compression_intervals
from suite.analysis.rendering import format_accuracy_table, format_compression_table
from suite.analysis.tables import (
    ACCURACY_RULE,
    COMPRESSION_ABSOLUTE_CAPTION,
    COMPRESSION_CAPTION,
    accuracy_table,
    compression_table,
    threshold_rules,
)

REPORT_TABLES: tuple[str, ...] = ("compression", "accuracy")
# File stem of the compression table at absolute accuracy thresholds.
ABSOLUTE_TABLE_NAME = "compression_absolute"

COMPRESSION_INTERVALS = (
    f" [lo–hi]: the {100 * LEVEL:g}% percentile interval of the cell's compression ratio under a bootstrap over "
    "seeds (exact for up to 8 seeds), dense and method resampled with the same seeds and the cell chosen again "
    "by this rule on each resample; '∅ x%': the share of resamples in which no configuration qualifies; "
    f"'p': the bootstrap probability that the cell lies within ±{100 * REFERENCE_TOLERANCE:g}% of the paper's "
    "value, where the sweep's spec gives it."
)
ACCURACY_INTERVALS = (
    f" [lo, hi]: the {100 * LEVEL:g}% percentile interval of the cell's mean under a bootstrap over its seeds "
    "(exact for up to 8 seeds)."
)


def eps_caption(eps_mode: str) -> str:
    if eps_mode == "relative":
        return COMPRESSION_CAPTION.replace("within ε percentage points of the dense model's median test accuracy",
                                           "at least (1 − ε/100) × the dense model's median test accuracy "
                                           "(ε read as a relative drop)")
    return COMPRESSION_CAPTION


def report_tables(rows: pd.DataFrame, tables: Sequence[str], eps: Sequence[float], absolute: Sequence[float] | None,
                  notes: list[str], eps_mode: str = "points",
                  references: Mapping[tuple[str, str], float] | None = None):
    """(name, numeric table, display table, caption) of each requested table. `references`:
    {(method label, ε key): the paper's compression ratio} for Table 1's p column."""
    if "compression" in tables:
        for model, dataset in sections_without_dense(rows):
            notes.append(f"compression table: {model}/{dataset} left out, it has no dense rows (no ε reference)")
        table = compression_table(rows, eps, missing_dense="skip", eps_mode=eps_mode)
        table = compression_intervals(table, rows, threshold_rules(eps, eps_mode=eps_mode), references)
        yield "compression", table, format_compression_table(table), eps_caption(eps_mode) + COMPRESSION_INTERVALS
    if absolute is not None:
        table = compression_table(rows, absolute=absolute)
        table = compression_intervals(table, rows, threshold_rules(absolute=absolute))
        yield (ABSOLUTE_TABLE_NAME, table, format_compression_table(table),
               COMPRESSION_ABSOLUTE_CAPTION + COMPRESSION_INTERVALS)
    if "accuracy" in tables:
        table = accuracy_intervals(accuracy_table(rows), rows)
        yield "accuracy", table, format_accuracy_table(table), ACCURACY_RULE + ACCURACY_INTERVALS


__all__ = ["ABSOLUTE_TABLE_NAME", "REPORT_TABLES", "eps_caption", "report_tables"]
