"""Table 2 cells the shared search (`bench sweep --adaptive --search shared`, rule in `suite.run.search.shared`) stopped
as estimated: the mean accuracy at the level, linear in log CR between two configurations measured on every
seed that bracket it, with its error interval. `LevelEstimate` is what the search hands the report (built by
`suite.run.search.shared.preview.shared_report`); `with_estimates` puts them into Table 2 (`tables.accuracy_table`
with its bootstrap intervals) in place of the measured rule's cell. Pure: no search, no files."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Table 2's extra columns per level, present only where the report was given estimates: the bracket in words,
# its two ends' axis values (λ or target) and their median compression ratios.
ESTIMATE_FIELDS = {"estimate": "description", "est_a": "a", "est_b": "b", "est_cr_a": "cr_a", "est_cr_b": "cr_b"}
# The cell's columns that name one configuration: an estimate rests on two, so they stay empty.
CONFIG_COLUMNS = ("std", "n_seeds", "lam", "lr", "target", "config")

ESTIMATE_RULE = (
    " 'est.': a level the shared search (--search shared) stopped as estimated shows no single configuration "
    "but the mean test accuracy at the level itself, linear in log CR between the two configurations of its "
    "group measured on every seed that bracket it (the last one short of the level and the next one reaching "
    "it, their median compression ratios in parentheses), e.g. '86.90 est. [86.62, 87.15] (CR 180–260)'. "
    "An estimate is made only where the bracket is narrow (at most a stated factor in CR) and its error bound "
    "holds: the ends within two measured bands of each other, or their mean accuracies close, or the change "
    "of slope of the neighbouring segments bounding the error of the straight line (docs/sweeps.md, "
    "'Estimates in a report'). Its [lo, hi] is that error bound clipped to the two ends' means, not a seed "
    "bootstrap; it has no std. "
    "Where a configuration reaching the level is more accurate, that configuration is the cell, as the rule "
    "above picks it."
)


@dataclass(frozen=True)
class LevelEstimate:
    """One estimated Table 2 cell: section and method label as the report's rows name them, the level as a
    compression ratio, the estimate and its interval (accuracies as fractions), and the bracket's ends a (short
    of the level) and b (reaching it) as axis values and median compression ratios."""

    model: str
    dataset: str
    label: str
    level: float
    value: float
    lo: float
    hi: float
    axis: str  # "lam" | "compression"
    a: float
    b: float
    cr_a: float
    cr_b: float
    basis: str = ""  # the error bound it met: "narrow" | "flat" | "curvature"

    @property
    def key(self) -> str:
        """Table 2's column key of the level: its sparsity (`tables.accuracy_table`, 10 -> '0.9')."""
        return f"{round(1.0 - 1.0 / self.level, 6):g}"

    @property
    def description(self) -> str:
        """'λ 0.00123 (CR 180) to λ 0.00211 (CR 260), curvature bound': the bracket in words (the CSV's)."""
        name = "λ" if self.axis == "lam" else "target"
        text = f"{name} {self.a:.3g} (CR {self.cr_a:.4g}) to {name} {self.b:.3g} (CR {self.cr_b:.4g})"
        return text + (f", {self.basis} bound" if self.basis else "")


def _levels(table: pd.DataFrame) -> list[str]:
    return [c.split("@", 1)[1] for c in table.columns if c.startswith("mean@")]


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def with_estimates(table: pd.DataFrame, estimates: Sequence[LevelEstimate]) -> pd.DataFrame:
    """Table 2 (with `lo@`/`hi@`) where each estimate replaces its cell unless that cell's measured
    configuration is at least as accurate (of several estimates of one cell, the most accurate); the
    ESTIMATE_FIELDS columns added per level. No estimates: the table itself, unchanged."""
    if not estimates:
        return table
    out = table.copy()
    levels = _levels(out)
    for key in levels:
        for column in ESTIMATE_FIELDS:
            out[f"{column}@{key}"] = None if column == "estimate" else np.nan
    rows = {(r.model, r.dataset, r.label): i for i, r in out[["model", "dataset", "label"]].iterrows()}
    for est in estimates:
        i, key = rows.get((est.model, est.dataset, est.label)), est.key
        if i is None or key not in levels:
            continue
        measured = out.at[i, f"mean@{key}"]
        if not _missing(measured) and float(measured) >= est.value:
            continue
        _place(out, i, key, est)
    return out


def _place(out: pd.DataFrame, i, key: str, est: LevelEstimate) -> None:
    for name in (f"{column}@{key}" for column in CONFIG_COLUMNS):
        if pd.api.types.is_integer_dtype(out[name]):  # ids and seed counts stay integers beside the empty cell
            out[name] = out[name].astype("Int64")
        out.at[i, name] = pd.NA if out[name].dtype == "Int64" else math.nan
    out.at[i, f"mean@{key}"], out.at[i, f"sparsity@{key}"] = est.value, 1.0 - 1.0 / est.level
    out.at[i, f"lo@{key}"], out.at[i, f"hi@{key}"] = est.lo, est.hi
    for column, field in ESTIMATE_FIELDS.items():
        out.at[i, f"{column}@{key}"] = getattr(est, field)


def estimated(row: pd.Series, key: str) -> bool:
    """The row's cell at level `key` is an estimate (`with_estimates` put it there)."""
    return not _missing(row.get(f"estimate@{key}"))


def has_estimates(table: pd.DataFrame | None) -> bool:
    """Some cell of the table is an estimate."""
    return table is not None and any(c.startswith("estimate@") and table[c].notna().any() for c in table.columns)


__all__ = ["ESTIMATE_FIELDS", "ESTIMATE_RULE", "LevelEstimate", "estimated", "has_estimates", "with_estimates"]
