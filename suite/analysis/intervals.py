"""How sure a table cell is: percentile bootstrap intervals over seeds.

As in rliable (Agarwal et al., 2021), the runs (here: seeds) are resampled with replacement and the
statistic is recomputed on each resample; the interval is the (2.5%, 97.5%) percentile of that
bootstrap distribution. With the few seeds a sweep has (3 in the paper's protocol) the distribution is
enumerated exactly, every multiset of seeds with its multinomial weight (10 multisets for 3 seeds), so a
report is deterministic; above EXACT_UP_TO seeds it is sampled (MC_DRAWS draws, fixed generator).

* Table 2 cell (`accuracy_intervals`): the bootstrap of the mean test accuracy of the cell's configuration.
* Table 1 cell (`compression_intervals`): the whole selection is redone on each resample, dense and every
  configuration resampled with the *same* seeds (seed s of the dense model and of a method share the data
  order and the initialization stream): the dense median moves the threshold, each configuration's median
  accuracy and median compression move, and the sparsest qualifying configuration is picked again by the
  table's own rule (`selections.sparsest_qualifying`). The interval is over the resamples that fill the
  cell; `p_empty@` is the weight of those that do not. Where a reference compression ratio is given (the
  paper's), `p25@` is the bootstrap probability that the cell lies within ±25% of it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from suite.analysis.configurations import assign_configs
from suite.analysis.selections import sparsest_qualifying

LEVEL = 0.95
EXACT_UP_TO = 8
MC_DRAWS = 2000
MC_SEED = 0
# A cell within this relative distance of a reference value counts as reproducing it (issue's ±25%).
REFERENCE_TOLERANCE = 0.25


def seed_resamples(n: int) -> list[tuple[np.ndarray, float]]:
    """(counts per seed position, weight) of every bootstrap resample of n seeds; weights sum to 1."""
    if n <= 0:
        return []
    if n <= EXACT_UP_TO:
        out = []
        for combo in itertools.combinations_with_replacement(range(n), n):
            counts = np.bincount(combo, minlength=n)
            weight = math.factorial(n) / math.prod(math.factorial(int(c)) for c in counts) / n ** n
            out.append((counts, weight))
        return out
    draws = np.random.default_rng(MC_SEED).integers(0, n, size=(MC_DRAWS, n))
    return [(np.bincount(d, minlength=n), 1.0 / MC_DRAWS) for d in draws]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches q of the total (the inverse CDF)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cumulative, q - 1e-12)])


def interval(values: np.ndarray, weights: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    tail = (1 - level) / 2
    return weighted_quantile(values, weights, tail), weighted_quantile(values, weights, 1 - tail)


def _per_seed(labelled: pd.DataFrame, column: str) -> pd.DataFrame:
    """config_id x seed -> the mean of `column` over that seed's rows (one row each, as a rule)."""
    return labelled.pivot_table(index="config_id", columns="seed", values=column, aggfunc="mean")


def _resampled(table: pd.DataFrame, counts: np.ndarray, statistic: Callable) -> pd.Series:
    """The statistic of each configuration's values repeated by the resample's counts (seeds it lacks drop)."""
    values = table.to_numpy()
    out = np.full(len(values), np.nan)
    for i, row in enumerate(values):
        present = ~np.isnan(row) & (counts > 0)
        if present.any():
            out[i] = statistic(np.repeat(row[present], counts[present]))
    return pd.Series(out, index=table.index)


def accuracy_intervals(table: pd.DataFrame, rows: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Table 2 (`tables.accuracy_table`) with `lo@s` / `hi@s`: the bootstrap interval of each cell's mean."""
    labelled = assign_configs(rows)
    accuracy = _per_seed(labelled, "test_acc") if not labelled.empty else pd.DataFrame()
    out = table.copy()
    for column in [c for c in table.columns if c.startswith("config@")]:
        key = column.split("@", 1)[1]
        bounds = [_mean_interval(accuracy, config, level) for config in table[column]]
        out[f"lo@{key}"] = [b[0] for b in bounds]
        out[f"hi@{key}"] = [b[1] for b in bounds]
    return out


def _mean_interval(accuracy: pd.DataFrame, config: object, level: float) -> tuple[float, float]:
    if pd.isna(config) or int(config) not in accuracy.index:
        return math.nan, math.nan
    values = accuracy.loc[int(config)].dropna().to_numpy()
    resamples = seed_resamples(len(values))
    means = np.array([np.repeat(values, c).mean() for c, _ in resamples])
    return interval(means, np.array([w for _, w in resamples]), level)


def compression_intervals(table: pd.DataFrame, rows: pd.DataFrame, thresholds: Mapping[str, Callable[[float], float]],
                          references: Mapping[tuple[str, str], float] | None = None,
                          level: float = LEVEL) -> pd.DataFrame:
    """Table 1 (`tables.compression_table`) with `cr_lo@k`, `cr_hi@k`, `p_empty@k` and, where `references`
    gives a value for (label, k), `p25@k`. `thresholds[k]` turns a dense median accuracy into column k's
    threshold (the table's ε rule); the seed bootstrap is described in the module docstring."""
    labelled = assign_configs(rows)
    out = table.copy()
    for key in thresholds:
        for name in (f"cr_lo@{key}", f"cr_hi@{key}", f"p_empty@{key}", f"p25@{key}"):
            out[name] = np.nan
    if labelled.empty:
        return out
    for (model, dataset), index in table.groupby(["model", "dataset"]).groups.items():
        section = labelled[(labelled["model"] == model) & (labelled["dataset"] == dataset)]
        _section_intervals(out, index, section, thresholds, references or {}, level)
    return out


def _section_intervals(out: pd.DataFrame, index, section: pd.DataFrame, thresholds, references, level) -> None:
    from suite.methods.dense import DENSE

    accuracy, compression = _per_seed(section, "test_acc"), _per_seed(section, "compression_ratio")
    configs = section.drop_duplicates("config_id").set_index("config_id").loc[accuracy.index, ["label"]]
    dense_ids = configs.index[configs["label"] == DENSE.label]
    draws = []  # per resample: (weight, {(label, key): cr or nan})
    for counts, weight in seed_resamples(accuracy.shape[1]):
        frame = configs.assign(test_acc_median=_resampled(accuracy, counts, np.median),
                               compression_ratio=_resampled(compression, counts, np.median))
        dense = frame.loc[dense_ids, "test_acc_median"].max() if len(dense_ids) else math.nan
        cells = {}
        for key, threshold in thresholds.items():
            for label, candidates in frame[frame["label"] != DENSE.label].groupby("label"):
                best = None if math.isnan(dense) else sparsest_qualifying(candidates, threshold(dense))
                cells[(label, key)] = math.nan if best is None else float(best["compression_ratio"])
        draws.append((weight, cells))
    weights = np.array([w for w, _ in draws])
    for i in index:
        label = out.at[i, "label"]
        for key in thresholds:
            values = np.array([cells.get((label, key), math.nan) for _, cells in draws])
            filled = ~np.isnan(values)
            out.at[i, f"p_empty@{key}"] = float(weights[~filled].sum())
            if filled.any():
                out.at[i, f"cr_lo@{key}"], out.at[i, f"cr_hi@{key}"] = interval(values[filled], weights[filled], level)
            reference = references.get((label, key))
            if reference is not None:
                near = filled & (np.abs(np.where(filled, values, 0) - reference) <= REFERENCE_TOLERANCE * reference)
                out.at[i, f"p25@{key}"] = float(weights[near].sum())


__all__ = ["LEVEL", "REFERENCE_TOLERANCE", "accuracy_intervals", "compression_intervals", "interval",
           "seed_resamples", "weighted_quantile"]
