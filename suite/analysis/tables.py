"""The paper's tables as numeric DataFrames: Table 1 (compression within ε of the
dense accuracy, or at absolute accuracy thresholds) and Table 2 (accuracy at
sparsity levels). Rows in, DataFrames out; accuracies are fractions in [0, 1]
(`rendering` turns them into the paper's display strings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from suite.analysis.cell_choice import CellChoice, ChosenRow
from suite.analysis.configurations import aggregate_configs, dense_reference, section_of, sections
from suite.methods.labels import sort_labels
from suite.analysis.selections import SPARSER_KEPT_SHARE, best_at_level, sparsest_qualifying
from suite.grid import TABLE1_EPS, TABLE2_SPARSITIES
from suite.methods.dense import DENSE

DEFAULT_EPS: tuple[float, ...] = TABLE1_EPS
DEFAULT_SPARSITIES: tuple[float, ...] = TABLE2_SPARSITIES
# The paper's Table 1 thresholds for LeNet-300-100 on F-MNIST: its dense accuracy
# there (89.12%, Table 2) less ε = 5 and 10 points. Comparing our methods at these
# rather than at ε below our own dense accuracy separates a shift of the dense
# model from the methods' own effects.
PAPER_FMNIST_LENET300_THRESHOLDS: tuple[float, ...] = (0.8412, 0.7912)

# The counting convention (README, Methods), stated in every table caption.
COUNTING = (
    " Counted set: the weights of all Linear/Conv layers; compression ratio = counted weights / nonzero "
    "(|w| ≥ 1.19e-7) counted weights. Pruning methods score and prune weights only; biases stay trainable "
    "and are not counted (DWF factorizes them, uncounted), unless a configuration sets include_bias."
)

SEEDS_NOTE = (
    " A cell measured on fewer seeds than the section's most says so, e.g. '(2 of 3 seeds)'."
)

COMPRESSION_CAPTION = (
    "Compression ratio (sparsity) of the sparsest configuration whose median test accuracy over seeds "
    "is within ε percentage points of the dense model's median test accuracy (boundary inclusive; "
    "ties in compression broken by higher accuracy). Dense row: the reference accuracy. "
    "'–': no configuration qualifies or the method was not run." + SEEDS_NOTE
) + COUNTING

COMPRESSION_ABSOLUTE_CAPTION = (
    "Compression ratio (sparsity) of the sparsest configuration whose median test accuracy over seeds "
    "is at least the given absolute test accuracy (boundary inclusive; ties in compression broken by "
    "higher accuracy), whatever our dense model reached. Dense row: our dense model's median accuracy, "
    "for comparison. '–': no configuration qualifies or the method was not run." + SEEDS_NOTE
) + COUNTING

ACCURACY_RULE = (
    "Mean ± std (over seeds, ddof=1) of the test accuracy (%) at each sparsity level s. Per method, the "
    "cell is the configuration (λ, LR, depth, target, ...; seeds aggregated) with the best mean test "
    "accuracy among those whose median sparsity over seeds is ≥ s, where s counts as reached within "
    "one parameter (tolerance max(1e-6, 1/total_params)); ties go to the configuration nearest s. "
    "Pruning methods with a target at s therefore enter with exactly that target. A cell whose configuration "
    f"keeps at most {100 * SPARSER_KEPT_SHARE:g}% of the weights the level keeps says at which compression ratio "
    "it was "
    "measured, e.g. "
    "'86.08 ± 0.19 (at CR 83)'. Dense row: the dense "
    "accuracy as the reference, repeated across levels. '–': no configuration reaches s." + SEEDS_NOTE
) + COUNTING


class MissingDenseError(ValueError):
    """A (model, dataset) has no dense rows, so ε has no reference accuracy."""


# --------------------------------------------------------------------------- Table 1

def _eps_key(eps: float) -> str:
    return f"{eps:g}"


def absolute_key(threshold: float) -> str:
    """Column key of an absolute threshold: a percentage with its sign ('84.12%'), so
    it never reads as an ε key ('5', points below the dense accuracy)."""
    return f"{100 * threshold:g}%"


def check_absolute_thresholds(absolute: Sequence[float]) -> list[float]:
    """The thresholds as a list, or a ValueError saying what is allowed."""
    values = list(absolute)
    bad = [t for t in values if isinstance(t, bool) or not isinstance(t, (int, float))
           or not (math.isfinite(t) and 0 < t <= 1)]
    if bad or not values:
        raise ValueError(f"absolute accuracy thresholds {bad or values}: allowed: one or more test accuracies "
                         "as fractions in (0, 1], e.g. 0.8412 for 84.12%")
    return values


def _threshold_keys(eps: Sequence[float] | None, absolute: Sequence[float] | None) -> list[str]:
    if eps is not None and absolute is not None:
        raise ValueError("pass eps (points below the dense accuracy) or absolute (accuracy thresholds), not both")
    if absolute is not None:
        return [absolute_key(t) for t in check_absolute_thresholds(absolute)]
    return [_eps_key(e) for e in (DEFAULT_EPS if eps is None else eps)]


# A wide table's cell columns (`cr@5`, ...) and the `CellChoice` field each holds.
COMPRESSION_CELL = {"cr": "compression_ratio", "sparsity": "sparsity", "acc": "accuracy_median",
                    "n_seeds": "n_seeds", "lam": "lam", "lr": "lr", "target": "target_compression",
                    "config": "config_id"}
ACCURACY_CELL = {"mean": "accuracy_mean", "std": "accuracy_std", "n_seeds": "n_seeds", "sparsity": "sparsity",
                 "lam": "lam", "lr": "lr", "target": "target_compression", "config": "config_id"}


def _compression_cell_columns(key: str) -> list[str]:
    return [f"{column}@{key}" for column in COMPRESSION_CELL]


def _cell_record(choice: CellChoice, key: str, layout: dict[str, str]) -> dict:
    """A choice spread into a wide table's columns for one threshold or level key."""
    return {f"{column}@{key}": getattr(choice, field) for column, field in layout.items()}


EPS_MODES = ("points", "relative")


def threshold_rules(eps: Sequence[float] | None = None, *, absolute: Sequence[float] | None = None,
                    eps_mode: str = "points") -> dict:
    """{column key: dense median accuracy -> that column's threshold}, for ε (read as `eps_mode`) or
    absolute thresholds (which ignore the dense accuracy)."""
    if eps_mode not in EPS_MODES:
        raise ValueError(f"eps_mode {eps_mode!r}: allowed: {', '.join(EPS_MODES)}")
    keys = _threshold_keys(eps, absolute)
    if absolute is not None:
        return {k: (lambda _dense, t=t: t) for k, t in zip(keys, absolute)}
    values = DEFAULT_EPS if eps is None else eps
    if eps_mode == "relative":
        return {k: (lambda dense, e=e: dense * (1 - e / 100)) for k, e in zip(keys, values)}
    return {k: (lambda dense, e=e: dense - e / 100) for k, e in zip(keys, values)}


def compression_columns(eps: Sequence[float] | None = None, *, absolute: Sequence[float] | None = None) -> list[str]:
    keys = _threshold_keys(eps, absolute)
    return ["model", "dataset", "label", "dense_acc", "seeds"] + [c for k in keys for c in _compression_cell_columns(k)]


def compression_table(
    rows: pd.DataFrame,
    eps: Sequence[float] | None = None,
    missing_dense: Literal["raise", "skip"] = "raise",
    *,
    absolute: Sequence[float] | None = None,
    eps_mode: str = "points",
) -> pd.DataFrame:
    """Paper Table 1: per (model, dataset) section and label, the sparsest configuration
    whose median test accuracy is >= dense median - ε/100, for each ε (percentage points;
    default DEFAULT_EPS). Columns `cr@5`, `sparsity@5`, ... per ε.

    With `absolute` (test accuracies as fractions, e.g. PAPER_FMNIST_LENET300_THRESHOLDS),
    the thresholds are those accuracies instead, the same in every section, and the
    columns are keyed by `absolute_key` (`cr@84.12%`, ...); eps must then be left out.

    One row per (model, dataset, label); labels in paper order, Dense first (its cells
    are its own sparsest qualifying configuration, CR ~ 1). `dense_acc` is the dense
    median accuracy of the section. Every label seen anywhere in `rows` gets a row in
    every section, so a method missing from one section shows as empty (NaN) cells, never 0.

    `eps_mode` reads ε as percentage points below the dense median ("points", the default) or as a
    relative drop, dense median x (1 - ε/100) ("relative", the paper body's "within 5% of the dense
    model accuracy"). With ε, a section without dense rows has no reference: `missing_dense="raise"` raises
    MissingDenseError naming those sections; "skip" leaves them out (list them with
    `configurations.sections_without_dense`). Absolute thresholds need no reference:
    such a section is kept with an empty `dense_acc`.
    """
    _check_missing_dense(missing_dense)
    keys = _threshold_keys(eps, absolute)
    columns = compression_columns(eps, absolute=absolute)
    configs = aggregate_configs(rows)
    if configs.empty:
        return pd.DataFrame(columns=columns)
    chosen = _compression_choices(configs, eps, missing_dense, absolute, eps_mode)
    records = [{"model": row.model, "dataset": row.dataset, "label": row.label, "dense_acc": row.dense_acc,
                "seeds": row.seeds} | {c: v for key, choice in zip(keys, row.cells)
                                       for c, v in _cell_record(choice, key, COMPRESSION_CELL).items()}
               for row in chosen]
    return _typed(pd.DataFrame(records, columns=columns))


def compression_choices(rows: pd.DataFrame, eps: Sequence[float] | None = None,
                        missing_dense: Literal["raise", "skip"] = "raise", *,
                        absolute: Sequence[float] | None = None, eps_mode: str = "points") -> list[ChosenRow]:
    """Table 1's cells as typed choices (`compression_table` spreads them into columns): one `ChosenRow`
    per section and label, its cells in the order of `eps` (or `absolute`). Same arguments and rules."""
    _check_missing_dense(missing_dense)
    _threshold_keys(eps, absolute)  # bad thresholds fail as the table's do
    configs = aggregate_configs(rows)
    return [] if configs.empty else _compression_choices(configs, eps, missing_dense, absolute, eps_mode)


def _check_missing_dense(missing_dense: str) -> None:
    if missing_dense not in ("raise", "skip"):
        raise ValueError(f"missing_dense {missing_dense!r}: allowed: 'raise', 'skip'")


def _compression_choices(configs: pd.DataFrame, eps, missing_dense: str, absolute, eps_mode: str) -> list[ChosenRow]:
    if absolute is None and eps is None:
        eps = DEFAULT_EPS
    references = _dense_references(configs, raise_missing=absolute is None and missing_dense == "raise")
    labels = sort_labels(configs["label"])
    chosen = []
    for (model, dataset), reference in references.items():
        if absolute is None and reference is None:
            continue
        dense_acc = np.nan if reference is None else float(reference["test_acc_median"])
        rules = threshold_rules(eps, absolute=absolute, eps_mode=eps_mode)
        thresholds = [rule(dense_acc) for rule in rules.values()]
        section = section_of(configs, model, dataset)
        for label in labels:
            candidates = section[section["label"] == label]
            cells = tuple(CellChoice.of(sparsest_qualifying(candidates, t)) for t in thresholds)
            chosen.append(ChosenRow(model, dataset, label, protocol_seeds(section), cells, dense_acc))
    return chosen


def _dense_references(configs: pd.DataFrame, raise_missing: bool) -> dict:
    """{(model, dataset): its dense reference configuration or None}; MissingDenseError for a None if asked."""
    references = {pair: dense_reference(section_of(configs, *pair)) for pair in sections(configs)}
    no_dense = [pair for pair, reference in references.items() if reference is None]
    if raise_missing and no_dense:
        names = ", ".join(f"{m}/{d}" for m, d in no_dense)
        raise MissingDenseError(
            f"no dense rows for {names}: the compression table measures ε against the dense accuracy; "
            "run the 'dense' method for these, or pass missing_dense='skip'"
        )
    return references


def protocol_seeds(section: pd.DataFrame) -> int:
    """The most seeds any configuration of a section was measured on: the protocol's seed count as the
    store shows it. A cell from a configuration with fewer (an interrupted run, a post-hoc point some
    seeds never reached) says so in its display, since its median and mean are over fewer seeds."""
    return int(section["n_seeds"].max())


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Seed counts as nullable integers: empty cells stay NA instead of becoming 0."""
    for col in table.columns:
        if col.startswith("n_seeds@") or col == "seeds":
            table[col] = table[col].astype("Float64").round().astype("Int64")
    return table


# --------------------------------------------------------------------------- Table 2

def _level_key(level: float) -> str:
    return f"{level:g}"


def _accuracy_cell_columns(level: float) -> list[str]:
    return [f"{column}@{_level_key(level)}" for column in ACCURACY_CELL]


def accuracy_columns(sparsities: Sequence[float] = DEFAULT_SPARSITIES) -> list[str]:
    return ["model", "dataset", "label", "seeds"] + [c for s in sparsities for c in _accuracy_cell_columns(s)]


def accuracy_table(rows: pd.DataFrame, sparsities: Sequence[float] = DEFAULT_SPARSITIES) -> pd.DataFrame:
    """Paper Table 2: mean ± std test accuracy per (model, dataset, label) and sparsity
    level, choosing configurations by ACCURACY_RULE. Labels seen anywhere get a row in
    every section; cells are NaN where nothing reaches the level."""
    columns = accuracy_columns(sparsities)
    configs = aggregate_configs(rows)
    if configs.empty:
        return pd.DataFrame(columns=columns)
    records = [{"model": row.model, "dataset": row.dataset, "label": row.label, "seeds": row.seeds}
               | {c: v for level, choice in zip(sparsities, row.cells)
                  for c, v in _cell_record(choice, _level_key(level), ACCURACY_CELL).items()}
               for row in _accuracy_choices(configs, sparsities)]
    return _typed(pd.DataFrame(records, columns=columns))


def accuracy_choices(rows: pd.DataFrame, sparsities: Sequence[float] = DEFAULT_SPARSITIES) -> list[ChosenRow]:
    """Table 2's cells as typed choices (`accuracy_table` spreads them into columns): one `ChosenRow` per
    section and label, its cells in the order of `sparsities`."""
    configs = aggregate_configs(rows)
    return [] if configs.empty else _accuracy_choices(configs, sparsities)


def _accuracy_choices(configs: pd.DataFrame, sparsities: Sequence[float]) -> list[ChosenRow]:
    labels = sort_labels(configs["label"])
    chosen = []
    for model, dataset in sections(configs):
        section = section_of(configs, model, dataset)
        for label in labels:
            candidates = section[section["label"] == label]
            cells = tuple(CellChoice.of(dense_reference(section) if label == DENSE.label
                                        else best_at_level(candidates, level)) for level in sparsities)
            chosen.append(ChosenRow(model, dataset, label, protocol_seeds(section), cells))
    return chosen
