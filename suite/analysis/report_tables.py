"""The paper's tables as report entries (`suite.analysis.report_parts.ReportTable`): Table 1 at ε, Table 1
at absolute accuracies, Table 2, each with the seed bootstrap's intervals (`suite.analysis.intervals`) on
every cell. Pure: rows in, tables out; `suite.analysis.report_registry` registers them."""

from __future__ import annotations

import pandas as pd

from suite.analysis.configurations import sections_without_dense
from suite.analysis.estimates import ESTIMATE_RULE, with_estimates
from suite.analysis.intervals import LEVEL, REFERENCE_TOLERANCE, accuracy_intervals, compression_intervals
from suite.analysis.rendering import format_accuracy_table, format_compression_table
from suite.analysis.report_parts import ReportContext, ReportTable
from suite.analysis.tables import (
    ACCURACY_RULE,
    COMPRESSION_ABSOLUTE_CAPTION,
    COMPRESSION_CAPTION,
    accuracy_table,
    compression_table,
    threshold_rules,
)

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


def _compression(ctx: ReportContext) -> pd.DataFrame:
    for model, dataset in sections_without_dense(ctx.rows):
        ctx.notes.append(f"compression table: {model}/{dataset} left out, it has no dense rows (no ε reference)")
    table = compression_table(ctx.rows, ctx.eps, missing_dense="skip", eps_mode=ctx.eps_mode)
    return compression_intervals(table, ctx.rows, threshold_rules(ctx.eps, eps_mode=ctx.eps_mode), ctx.references)


def _compression_absolute(ctx: ReportContext) -> pd.DataFrame | None:
    if ctx.absolute is None:
        return None
    table = compression_table(ctx.rows, absolute=ctx.absolute)
    return compression_intervals(table, ctx.rows, threshold_rules(absolute=ctx.absolute))


COMPRESSION = ReportTable(
    "compression", "paper Table 1: the compression ratio of the sparsest configuration within ε of the dense "
    "accuracy", _compression, format_compression_table, lambda ctx: eps_caption(ctx.eps_mode) + COMPRESSION_INTERVALS,
    "Table 1: compression ratio at accuracy within ε of the dense model")
COMPRESSION_ABSOLUTE = ReportTable(
    ABSOLUTE_TABLE_NAME, "Table 1 at absolute test accuracies (written whenever --absolute is given)",
    _compression_absolute, format_compression_table, lambda _: COMPRESSION_ABSOLUTE_CAPTION + COMPRESSION_INTERVALS,
    "Table 1 at absolute accuracy thresholds")
def _accuracy(ctx: ReportContext) -> pd.DataFrame:
    """Table 2 with its bootstrap intervals, and the shared search's estimates where it made any."""
    return with_estimates(accuracy_intervals(accuracy_table(ctx.rows), ctx.rows), ctx.estimates)


ACCURACY = ReportTable(
    "accuracy", "paper Table 2: test accuracy at fixed sparsity levels", _accuracy, format_accuracy_table,
    lambda ctx: ACCURACY_RULE + ACCURACY_INTERVALS + (ESTIMATE_RULE if ctx.estimates else ""),
    "Table 2: test accuracy (%) at fixed sparsity")


__all__ = ["ABSOLUTE_TABLE_NAME", "ACCURACY", "COMPRESSION", "COMPRESSION_ABSOLUTE", "eps_caption"]
