"""The data behind each figure, chosen from the store's frames: Pareto frontiers
(Figs. 1, 8, 9), per-layer counts near chosen compressions (Fig. 10) and
per-epoch histories (Figs. 6, 7). DataFrames in, DataFrames out; `plots`
draws them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from suite.config import DEFAULTS
from suite.analysis.configurations import aggregate_configs, assign_configs, dense_reference, section_of, sections
from suite.methods.labels import sort_labels
from suite.analysis.selections import pareto_front
from suite.methods.dense import DENSE

PARETO_COLUMNS = ["model", "dataset", "label", "compression_ratio", "test_acc_median", "test_acc_min"]
LAYER_COLUMNS = ["model", "dataset", "compression", "label", "achieved", "layer", "layer_index", "remaining"]
DYNAMICS_COLUMNS = ["label", "model", "dataset", "lam", "lr", "variant", "epoch", "test_acc", "compression_ratio",
                    "l2_norm"]


# --------------------------------------------------------------------------- Pareto (Figs. 1, 8)

def pareto_selection(configs: pd.DataFrame) -> pd.DataFrame:
    """Per section and method label, the Pareto frontier of its configurations
    (median over seeds, not dominated in both accuracy and compression; configurations
    with no positive finite compression cannot be drawn on a log axis and are left out).
    Dense contributes one row per section: its reference configuration."""
    parts = []
    for model, dataset in sections(configs):
        section = section_of(configs, model, dataset)
        reference = dense_reference(section)
        if reference is not None:
            parts.append(reference.to_frame().T)
        for label in sort_labels(section["label"]):
            if label != DENSE.label:
                parts.append(pareto_front(section[(section["label"] == label) & (section["compression_ratio"] > 0)]))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=PARETO_COLUMNS)
    selected = pd.concat(parts, ignore_index=True)[PARETO_COLUMNS]
    numeric = ["compression_ratio", "test_acc_median", "test_acc_min"]
    return selected.astype(dict.fromkeys(numeric, "float64"))


# --------------------------------------------------------------------------- layers (Fig. 10)

def _select_pair(frame: pd.DataFrame, model: str | None, dataset: str | None) -> pd.DataFrame:
    """Rows of one (model, dataset); None picks the first pair present."""
    if frame.empty:
        return frame
    pairs = sections(frame)
    if model is None or dataset is None:
        candidates = [p for p in pairs if (model is None or p[0] == model) and (dataset is None or p[1] == dataset)]
        if not candidates:
            return frame.iloc[0:0]
        model, dataset = candidates[0]
    return section_of(frame, model, dataset)


def _representative_row(labelled: pd.DataFrame, config_id: int) -> pd.Series:
    """Seed 0 if the configuration has it, else its first seed."""
    members = labelled[labelled["config_id"] == config_id].sort_values("seed", kind="stable")
    zero = members[members["seed"] == 0]
    return (zero if not zero.empty else members).iloc[0]


def _closest_config(candidates: pd.DataFrame, target: float, max_factor: float | None) -> pd.Series | None:
    finite = candidates[np.isfinite(candidates["compression_ratio"].astype(float))
                        & (candidates["compression_ratio"] > 0)]
    if finite.empty:
        return None
    distance = np.abs(np.log(finite["compression_ratio"].astype(float) / target))
    best = finite.loc[distance.idxmin()]
    if max_factor is not None and abs(math.log(best["compression_ratio"] / target)) > math.log(max_factor) + 1e-12:
        return None
    return best


def layer_selection(
    rows: pd.DataFrame,
    layers: pd.DataFrame,
    compressions: Sequence[float] = (10, 100, 1000),
    model: str | None = None,
    dataset: str | None = None,
    max_factor: float | None = 2.0,
) -> pd.DataFrame:
    """Per chosen compression and label: the per-layer counts of the configuration
    whose median compression is closest (in log) to it, at seed 0 or its first seed,
    for one (model, dataset) (None: the first present).

    Configurations more than `max_factor` away from the chosen compression are
    left out (None keeps the closest whatever its distance): a method that never
    got near a ratio should not be drawn as if it had.
    """
    rows = _select_pair(rows, model, dataset)
    if rows.empty or layers.empty:
        return pd.DataFrame(columns=LAYER_COLUMNS)
    labelled = assign_configs(rows)
    configs = aggregate_configs(rows)
    layers = layers.assign(point_id=pd.to_numeric(layers["point_id"], errors="coerce").fillna(-1))
    parts = []
    for target in compressions:
        for label in sort_labels(configs["label"]):
            if label == DENSE.label:
                continue
            config = _closest_config(configs[configs["label"] == label], target, max_factor)
            if config is None:
                continue
            row = _representative_row(labelled, config["config_id"])
            point_id = -1 if pd.isna(row["point_id"]) else row["point_id"]
            own = layers[(layers["config_hash"] == row["config_hash"]) & (layers["point_id"] == point_id)]
            if own.empty:
                continue
            own = own.sort_values("layer_index", kind="stable")
            parts.append(pd.DataFrame({
                "model": row["model"], "dataset": row["dataset"],
                "compression": target, "label": label, "achieved": row["compression_ratio"],
                "layer": own["layer"].to_numpy(), "layer_index": own["layer_index"].to_numpy(),
                "remaining": own["nonzero_params"].to_numpy(float) / own["total_params"].to_numpy(float),
            }))
    return pd.concat(parts, ignore_index=True)[LAYER_COLUMNS] if parts else pd.DataFrame(columns=LAYER_COLUMNS)


# --------------------------------------------------------------------------- dynamics (Figs. 6, 7)

def _default_method(labelled: pd.DataFrame) -> tuple[str, float | None]:
    """DWF with the largest depth present, else the first non-dense method."""
    dwf = labelled[labelled["method"] == "dwf"]
    if not dwf.empty:
        return "dwf", float(dwf["depth"].max())
    others = sorted(set(labelled["method"].dropna()) - {DENSE.name}) or sorted(set(labelled["method"].dropna()))
    return (others[0], None) if others else ("dwf", None)


def _variants(trials: pd.DataFrame) -> list[str]:
    """Per trial, what sets its configuration apart beyond λ and LR, as short text ('' where nothing
    does): the training length, and the other config fields whose values differ among the trials."""
    several_lengths = trials["epochs"].nunique(dropna=False) > 1
    lengths = [f"{e:g} epochs" if several_lengths else "" for e in trials["epochs"]]
    settings = [json.loads(s) if s else {} for s in trials["settings"]]
    differing = sorted({k for s in settings for k in s if len({json.dumps(x.get(k)) for x in settings}) > 1})
    # A settings key leaves out the fields at their defaults (configurations._settings_key): name those.
    settings = [{k: s.get(k, DEFAULTS.get(k)) for k in differing} for s in settings]
    others = [", ".join(f"{k}={s.get(k)}" for k in differing) for s in settings]
    return [", ".join(p for p in pair if p) for pair in zip(lengths, others)]


def dynamics_selection(
    history: pd.DataFrame,
    rows: pd.DataFrame,
    method: str | None = None,
    depth: int | None = None,
    model: str | None = None,
    dataset: str | None = None,
) -> pd.DataFrame:
    """Per-epoch history of one method/depth and (model, dataset), median over the seeds of each
    configuration per epoch; `variant` names what else than λ and lr tells configurations apart (a
    training length, a config field), so that no median mixes runs no one trained alike.
    Default: DWF at the largest depth present."""
    if rows.empty or history.empty:
        return pd.DataFrame(columns=DYNAMICS_COLUMNS)
    labelled = assign_configs(_select_pair(rows, model, dataset))
    if method is None:
        method, default_depth = _default_method(labelled)
        depth = depth if depth is not None else default_depth
    chosen = labelled[labelled["method"] == method]
    if depth is not None:
        chosen = chosen[chosen["depth"] == depth]
    chosen = chosen[chosen["point"] == "final"]
    trials = chosen.drop_duplicates("config_hash")[["config_hash", "label", "model", "dataset", "lam", "lr", "seed",
                                                    "epochs", "settings"]].copy()
    trials["variant"] = _variants(trials)
    merged = history.drop(columns=["lr"], errors="ignore").merge(trials, on="config_hash")
    if merged.empty:
        return pd.DataFrame(columns=DYNAMICS_COLUMNS)
    merged["compression_ratio"] = merged["compression_ratio"].astype(float).replace([np.inf, -np.inf], np.nan)
    keys = ["label", "model", "dataset", "lam", "lr", "variant", "epoch"]
    medians = merged.groupby(keys, dropna=False, sort=True)[["test_acc", "compression_ratio", "l2_norm"]].median()
    return medians.reset_index()[DYNAMICS_COLUMNS]
