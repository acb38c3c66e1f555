"""What a table's rule chose for one cell, as a typed value: `CellChoice` (one method label at one ε,
absolute threshold or sparsity level) and `ChosenRow` (one label of one section, its cells in threshold
order). `suite.analysis.tables` makes them and spreads them into the report's wide tables (`cr@5`,
`lam@5`, ...); the adaptive search (`suite.run.search.bisect.plan`) reads them directly, so the search and the
report agree on every cell without sharing column names."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The aggregated configuration's columns (`configurations.aggregate_configs`) a choice keeps.
SOURCE = {"compression_ratio": "compression_ratio", "sparsity": "sparsity", "accuracy_median": "test_acc_median",
          "accuracy_mean": "test_acc_mean", "accuracy_std": "test_acc_std", "n_seeds": "n_seeds", "lam": "lam",
          "lr": "lr", "target_compression": "target_compression", "config_id": "config_id"}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


@dataclass(frozen=True)
class CellChoice:
    """The configuration a table chose for a cell (values as the aggregated configuration holds them:
    accuracies as fractions, medians and means over its seeds), or an empty cell (`CellChoice.none()`)."""

    config_id: object = np.nan
    compression_ratio: object = np.nan
    sparsity: object = np.nan
    accuracy_median: object = np.nan
    accuracy_mean: object = np.nan
    accuracy_std: object = np.nan
    n_seeds: object = np.nan
    lam: object = np.nan
    lr: object = np.nan
    target_compression: object = np.nan

    @classmethod
    def of(cls, config: pd.Series | None) -> CellChoice:
        """The choice of one aggregated configuration; None (nothing qualifies) is the empty cell."""
        if config is None:
            return cls()
        return cls(**{field: config[column] for field, column in SOURCE.items()})

    @property
    def empty(self) -> bool:
        """No configuration qualifies (or the method was not run)."""
        return _missing(self.config_id)

    def axis_value(self, axis: str) -> float | None:
        """The chosen configuration's value on a search axis: its λ ("lam") or its target compression
        ("compression"); None for an empty cell."""
        if axis not in ("lam", "compression"):
            raise ValueError(f"axis {axis!r}: allowed: 'lam', 'compression'")
        value = self.lam if axis == "lam" else self.target_compression
        return None if self.empty or _missing(value) else float(value)


@dataclass(frozen=True)
class ChosenRow:
    """One method label of one (model, dataset) section: its cells, one per threshold or level, in the
    order they were asked for. `dense_acc`: the section's dense median accuracy (Table 1; NaN where
    there is none, or for Table 2); `seeds`: the section's protocol seed count."""

    model: str
    dataset: str
    label: str
    seeds: int
    cells: tuple[CellChoice, ...]
    dense_acc: float = np.nan


__all__ = ["CellChoice", "ChosenRow"]
