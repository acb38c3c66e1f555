"""Which training length a report reads. A quick look (`bench sweep NAME --epochs 2`) and the full
protocol write to the same store, and the tables pick across every configuration they find, so a
report either says that the store mixes lengths or reads one length (`bench report --epochs N`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from suite.results.store import SweepData


class UnknownEpochsError(ValueError):
    """A report asked for a training length no trial of the sweep has."""


def row_epochs(rows: pd.DataFrame) -> pd.Series:
    """Each row's epoch count; NaN where it is not recorded (a null, or a hand-made store without the column)."""
    if "epochs" not in rows.columns:
        return pd.Series(np.nan, index=rows.index, dtype="float64")
    return pd.to_numeric(rows["epochs"], errors="coerce")


def training_lengths(rows: pd.DataFrame) -> list[int]:
    """The epoch counts the rows record, ascending."""
    return sorted({int(e) for e in row_epochs(rows).dropna()})


def _trials(rows: pd.DataFrame) -> int:
    return rows["config_hash"].nunique() if "config_hash" in rows.columns else len(rows)


def mixed_lengths_notes(rows: pd.DataFrame) -> list[str]:
    """A note when the store holds trials of different lengths: every table and figure picks across them."""
    lengths = training_lengths(rows)
    if len(lengths) < 2:
        return []
    epochs = row_epochs(rows)
    listed = ", ".join(f"{e} epochs ({_trials(rows[epochs == e])} trials)" for e in lengths)
    return [f"trials of different training lengths: {listed}; every table and figure picks across them; "
            f"`bench report --epochs {lengths[-1]}` reads one length"]


def select_epochs(data: SweepData, epochs: int) -> tuple[SweepData, list[str]]:
    """The trials trained for `epochs` epochs (rows, side tables, failures), and notes saying what was left
    out; an UnknownEpochsError naming the lengths there are when no trial has this one. A failure whose
    config records no length is kept: nothing says it belongs to another protocol."""
    lengths = training_lengths(data.rows)
    if epochs not in lengths:
        allowed = ", ".join(map(str, lengths)) or "none (no result row records its training length)"
        raise UnknownEpochsError(f"no trial of this sweep trained for {epochs} epochs; allowed: {allowed}")
    row_lengths = row_epochs(data.rows)
    rows = data.rows[row_lengths == epochs].reset_index(drop=True)
    keep = set(rows["config_hash"])
    sides = {name: frame[frame["config_hash"].isin(keep)] if not frame.empty else frame
             for name, frame in (("layers", data.layers), ("history", data.history))}
    failures = [f for f in data.failures if (f.get("config") or {}).get("epochs") in (epochs, None)]
    lacking = {table: [h for h in hashes if h in keep] for table, hashes in data.lacking.items()}
    notes = [f"--epochs {epochs}: left out {_trials(data.rows[row_lengths != epochs])} trial(s) of other or "
             f"unrecorded lengths and {len(data.failures) - len(failures)} failed trial(s) of other lengths"]
    return replace(data, rows=rows, failures=failures, lacking={t: h for t, h in lacking.items() if h},
                   **sides), notes


__all__ = ["UnknownEpochsError", "mixed_lengths_notes", "row_epochs", "select_epochs", "training_lengths"]
