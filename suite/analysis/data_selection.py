"""Which data a report reads. Rows carry the fingerprint of the data their trial trained on
(suite/core/data/fingerprint.py); a report never aggregates rows of different data: it reads one data
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
# The paper's training length for its LeNet and VGG/ResNet tables is 75 / 250 epochs; below 75 a report is a preview.
PAPER_EPOCHS = 75


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


def pinned_in_configs(rows: pd.DataFrame, fingerprint: str | None) -> bool:
    """Whether the trials on this data were planned for it (the fingerprint is in their configs, as every trial
    since provenance), rather than labelled with it afterwards (an archived store): only then do the spec's
    configurations, pinned to it, hash to theirs."""
    mine = rows[row_data(rows) == fingerprint] if fingerprint is not None and not rows.empty else rows.iloc[:0]
    text = mine["config_json"].iloc[0] if not mine.empty and "config_json" in mine else None
    return isinstance(text, str) and json.loads(text).get("data_fingerprint") == fingerprint


def protocol_text(rows: pd.DataFrame) -> str:
    """What the rows are, in a phrase for captions: training length(s), seeds, data, and "preview" below the
    paper's 75 epochs. E.g. '75 epochs, seeds 0, 1, 2; data fmnist 0bde4f77ff16fcdd'."""
    if rows.empty:
        return "no trials"
    epochs = sorted({int(e) for e in pd.to_numeric(rows.get("epochs"), errors="coerce").dropna()}) \
        if "epochs" in rows else []
    seeds = sorted({int(s) for s in pd.to_numeric(rows["seed"], errors="coerce").dropna()})
    data = ", ".join(f"{d} {fp}" for d in sorted(set(rows["dataset"]))
                     for fp in data_present(rows[rows["dataset"] == d]))
    length = f"{'/'.join(map(str, epochs))} epochs" if epochs else "epochs not recorded"
    preview = "; PREVIEW, not the paper's 75-epoch protocol" if epochs and max(epochs) < PAPER_EPOCHS else ""
    return f"{length}, seeds {', '.join(map(str, seeds))}; data {data}{preview}"


def trial_time_text(rows: pd.DataFrame, grid_trials: int | None = None) -> str:
    """The compute the rows cost: summed trial time (each trial's stored wall time, counted once however many
    rows it wrote), its mean, and the spec's full grid at that mean where its size is known. E.g. 'summed
    trial time 4.5 h over 85 trials (3.2 min each on average; the full grid of 630 at that pace: 33.6 h)'."""
    if rows.empty or "wall_time_s" not in rows:
        return "trial time not recorded"
    seconds = pd.to_numeric(rows.drop_duplicates("config_hash")["wall_time_s"], errors="coerce").dropna()
    if seconds.empty:
        return "trial time not recorded"
    mean = seconds.mean()
    grid = (f"; the full grid of {grid_trials} at that pace: {grid_trials * mean / 3600:.1f} h"
            if grid_trials else "")
    return (f"summed trial time {seconds.sum() / 3600:.1f} h over {len(seconds)} trials "
            f"({mean / 60:.1f} min each on average{grid})")


def provenance_lines(rows: pd.DataFrame) -> list[str]:
    """Markdown lines: the data of each dataset section, and what produced the rows (code, versions, threads,
    devices), each value with the number of trials it holds for; "not recorded" for rows from before."""
    if rows.empty:
        return []
    lines = [f"- {describe_data(rows[rows['dataset'] == d], fp)}"
             for d in sorted(set(rows["dataset"])) for fp in data_present(rows[rows["dataset"] == d])]
    for column, what in (("git_commit", "code"), ("bench_version", "bench"), ("torch_version", "torch"),
                         ("python_version", "Python"), ("threads", "threads per trial"), ("device", "device"),
                         ("hostname", "host")):
        values = rows[column].astype("object").where(rows[column].notna(), NOT_RECORDED) if column in rows \
            else pd.Series(NOT_RECORDED, index=rows.index)
        trials = rows.assign(_v=values.astype(str)).groupby("_v")["config_hash"].nunique()
        lines.append(f"- {what}: "
                     + ", ".join(f"{v} ({n} trials)" for v, n in trials.sort_values(ascending=False).items()))
    return lines


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
    if len(present) == 1:
        return data, chosen, []
    rows = data.rows[labels == chosen].reset_index(drop=True)
    keep = set(rows["config_hash"])
    sides = {name: frame[frame["config_hash"].isin(keep)] if not frame.empty else frame
             for name, frame in (("layers", data.layers), ("history", data.history))}
    others = [f"{fp} ({data.rows[labels == fp]['config_hash'].nunique()} trials)" for fp in present if fp != chosen]
    notes = [f"this store also holds trials on other data, left out here (never mixed into a cell): "
             f"{'; '.join(others)}; `bench report --data-fingerprint FP` reports one of them"]
    failures = [f for f in data.failures
                if (f.get("config") or {}).get("data_fingerprint") in (chosen, None)]
    lacking = {table: [h for h in hashes if h in keep] for table, hashes in data.lacking.items()}
    return replace(data, rows=rows, failures=failures, lacking={t: h for t, h in lacking.items() if h},
                   **sides), chosen, notes


__all__ = ["NOT_RECORDED", "PAPER_EPOCHS", "pinned_in_configs", "protocol_text", "UnknownDataError", "data_present",
           "describe_data", "provenance_lines", "row_data", "select_data"]
