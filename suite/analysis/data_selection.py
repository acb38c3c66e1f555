"""Which data a report reads. Rows carry the fingerprint of the data their trial trained on
(suite/core/fingerprint.py); a report never aggregates rows of different data: it reads one data
(`bench report --data-fingerprint FP`, by default the data of the newest trial), names it, and lists
the others with the command that reports them. Rows written before provenance have no fingerprint
and are one data of their own, "not recorded".
"""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd

from suite.results.store import SweepData

NOT_RECORDED = "not recorded"


class UnknownDataError(ValueError):
    """A report asked for data no trial of the sweep trained on."""


def row_data(rows: pd.DataFrame) -> pd.Series:
    """Each row's data fingerprint; NOT_RECORDED for rows written before provenance."""
    if "data_fingerprint" not in rows.columns:
        return pd.Series(NOT_RECORDED, index=rows.index, dtype="object")
    return rows["data_fingerprint"].astype("object").where(rows["data_fingerprint"].notna(), NOT_RECORDED)


def data_present(rows: pd.DataFrame) -> list[str]:
    """The data of the rows, newest trial's first."""
    if rows.empty:
        return []
    labels = row_data(rows)
    newest = rows["created_at"].groupby(labels).max() if "created_at" in rows else labels.value_counts()
    return list(newest.sort_values(ascending=False).index)


def describe_data(rows: pd.DataFrame, fingerprint: str) -> str:
    """The data in words: dataset, fingerprint and the files (md5) it was computed from."""
    mine = rows[row_data(rows) == fingerprint]
    dataset = ", ".join(sorted(set(mine["dataset"].dropna()))) if "dataset" in mine else "?"
    if fingerprint == NOT_RECORDED:
        return f"{dataset}, data not recorded (rows written before provenance)"
    sources = mine["data_sources"].dropna().iloc[0] if "data_sources" in mine and mine["data_sources"].notna().any() \
        else None
    files = ", ".join(f"{name} md5 {md5}" for name, md5 in sorted(json.loads(sources).items())) if sources else ""
    return f"{dataset} data {fingerprint}" + (f" ({files})" if files else "")


def select_data(data: SweepData, fingerprint: str | None) -> tuple[SweepData, str | None, list[str]]:
    """(the sweep's trials on one data, that data's fingerprint, notes naming it and what was left out).

    `fingerprint` None: the data of the newest trial. UnknownDataError naming the data there are when no
    trial trained on the one asked for."""
    present = data_present(data.rows)
    if not present:
        return data, fingerprint, []
    chosen = fingerprint or present[0]
    if chosen not in present:
        raise UnknownDataError(f"no trial of this sweep trained on data {chosen!r}; allowed: {', '.join(present)}")
    labels = row_data(data.rows)
    notes = [f"data: {describe_data(data.rows, chosen)}"]
    if len(present) == 1:
        return data, chosen, notes
    rows = data.rows[labels == chosen].reset_index(drop=True)
    keep = set(rows["config_hash"])
    sides = {name: frame[frame["config_hash"].isin(keep)] if not frame.empty else frame
             for name, frame in (("layers", data.layers), ("history", data.history))}
    others = [f"{fp} ({data.rows[labels == fp]['config_hash'].nunique()} trials)" for fp in present if fp != chosen]
    notes.append(f"this store also holds trials on other data, left out here (never mixed into a cell): "
                 f"{'; '.join(others)}; `bench report --data-fingerprint FP` reports one of them")
    failures = [f for f in data.failures
                if (f.get("config") or {}).get("data_fingerprint") in (chosen, None)]
    lacking = {table: [h for h in hashes if h in keep] for table, hashes in data.lacking.items()}
    return replace(data, rows=rows, failures=failures, lacking={t: h for t, h in lacking.items() if h},
                   **sides), chosen, notes


__all__ = ["NOT_RECORDED", "UnknownDataError", "data_present", "describe_data", "row_data", "select_data"]
