"""Result rows -> configurations: which rows are seeds of one configuration, and
their statistics over seeds.

* configuration: all rows sharing `CONFIG_KEYS` that differ only in seed;
  tables and curves aggregate over seeds within a configuration.
* section: one (model, dataset) pair; tables and figures are laid out by section.

Accuracies are fractions in [0, 1] throughout.
"""

from __future__ import annotations

import json

import pandas as pd

from suite.config import FLAT_PARAM_DEFAULTS, ROW_COLUMN_FIELDS, at_default
from suite.fields import param_fields
from suite.methods.labels import method_label
from suite.builtins import METHODS
from suite.results.store import ROW_SCHEMA
from suite.methods.dense import DENSE

# Seeds are aggregated over; everything else that shapes a result is a key.
# `point_key` separates the post-hoc points of one trial when a row carries no
# target_compression (it is -1 whenever target_compression is set, so it never
# splits seeds of the same target).
# `settings` holds the trial's config fields that a result row has no column
# of its own for (base_init, finetune_epochs, batch_size, ...; the others are
# suite.config's ROW_COLUMN_FIELDS), so e.g. GMP with and without fine-tuning
# are different configurations, never seeds of one.
CONFIG_KEYS: tuple[str, ...] = (
    "label", "model", "dataset", "depth", "lam", "lr", "target_compression", "epochs", "point", "point_key",
    "settings", "data_fingerprint",  # rows of different data are never seeds of one configuration
)
AGG_COLUMNS: tuple[str, ...] = CONFIG_KEYS + (
    "config_id", "method", "test_acc_median", "test_acc_mean", "test_acc_std", "test_acc_min", "test_acc_max",
    "compression_ratio", "sparsity", "total_params", "n_seeds", "n_rows", "n_not_ok",
)


def _ensure_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """Hand-made or older frames may lack schema columns; add them as nulls."""
    missing = [name for name in ROW_SCHEMA.names if name not in rows.columns]
    if not missing:
        return rows.copy()
    return pd.concat([rows, pd.DataFrame({name: [None] * len(rows) for name in missing}, index=rows.index)], axis=1)


def _settings_key(config_json, method: str) -> str:
    """Canonical text of a trial's remaining config fields ('' for hand-made rows),
    less the parameters of other methods that stored configs carry flat (the DWF init's, for
    a method without them: a GMP run is the same configuration whatever omega_min said)."""
    if not isinstance(config_json, str) or not config_json:
        return ""
    config = json.loads(config_json)
    known = METHODS.get(method) if method in METHODS else None  # a plugin not imported here
    unread = set(FLAT_PARAM_DEFAULTS) - set(param_fields(known.params)) if known is not None else set()
    ignored = set(ROW_COLUMN_FIELDS) | unread
    # A field at its default says nothing: a field added later is absent from older stored configs.
    # Nothing left is '' too, as for a row without a config.
    settings = {k: v for k, v in config.items() if k not in ignored and not at_default(k, v)}
    return json.dumps(settings, sort_keys=True) if settings else ""


def assign_configs(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows plus `label`, `point_key` and `config_id` (same id = same configuration)."""
    df = _ensure_columns(rows)
    df["point"] = df["point"].fillna("final")
    df["label"] = [method_label(m, d, p) for m, d, p in zip(df["method"], df["depth"], df["point"])]
    for col in ("depth", "lam", "lr", "target_compression", "epochs", "test_acc", "compression_ratio",
                "sparsity", "total_params", "seed"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    point_id = pd.to_numeric(df["point_id"], errors="coerce").fillna(-1)
    df["point_key"] = point_id.where(df["target_compression"].isna(), -1).astype("int64")
    df["settings"] = [_settings_key(text, method) for text, method in zip(df["config_json"], df["method"])]
    if df.empty:
        df["config_id"] = pd.Series(dtype="int64")
        return df
    df["config_id"] = df.groupby(list(CONFIG_KEYS), dropna=False, sort=True).ngroup()
    return df


def aggregate_configs(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: test accuracy statistics over seeds and median compression."""
    df = assign_configs(rows)
    if df.empty:
        return pd.DataFrame(columns=list(AGG_COLUMNS))
    df["_not_ok"] = (df["status"].fillna("ok") != "ok").astype("int64")
    grouped = df.groupby(list(CONFIG_KEYS) + ["config_id"], dropna=False, sort=True)
    agg = grouped.agg(
        method=("method", "first"),
        test_acc_median=("test_acc", "median"),
        test_acc_mean=("test_acc", "mean"),
        test_acc_std=("test_acc", "std"),
        test_acc_min=("test_acc", "min"),
        test_acc_max=("test_acc", "max"),
        compression_ratio=("compression_ratio", "median"),
        sparsity=("sparsity", "median"),
        total_params=("total_params", "median"),
        n_seeds=("seed", "nunique"),
        n_rows=("seed", "size"),
        n_not_ok=("_not_ok", "sum"),
    ).reset_index()
    # The sparsity of the median compression, not a median of its own: with an even number of seeds
    # the two medians average different pairs of values, and a table would print a CR and a
    # sparsity no one network has. With an odd number both are the middle seed's anyway.
    known = agg["compression_ratio"].notna()
    agg.loc[known, "sparsity"] = 1.0 - 1.0 / agg.loc[known, "compression_ratio"]
    return agg[list(AGG_COLUMNS)]


def complete_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows of the configurations measured on as many seeds as their section's most-measured one (the
    protocol's seeds), and how many configurations were left out: e.g. the points the shared ε-search
    (suite.run.search.shared) ran on one seed only, which must not become a table's cell."""
    if rows.empty:
        return rows, 0
    df = assign_configs(rows)
    n_seeds = df.groupby("config_id")["seed"].transform("nunique")
    protocol = n_seeds.groupby([df["model"], df["dataset"]]).transform("max")
    keep = (n_seeds >= protocol).to_numpy()
    dropped = int(df.loc[~keep, "config_id"].nunique())
    return rows.loc[keep], dropped


def sections(configs: pd.DataFrame) -> list[tuple[str, str]]:
    """The (model, dataset) pairs present, sorted."""
    if configs.empty:
        return []
    pairs = configs[["model", "dataset"]].drop_duplicates()
    return sorted((str(m), str(d)) for m, d in pairs.itertuples(index=False))


def section_of(frame: pd.DataFrame, model: str, dataset: str) -> pd.DataFrame:
    """The rows (or configurations) of one (model, dataset) section."""
    return frame[(frame["model"] == model) & (frame["dataset"] == dataset)]


def sections_without_dense(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(model, dataset) pairs with results but no dense rows (no ε reference)."""
    if rows.empty:
        return []
    labelled = assign_configs(rows)
    with_dense = set(sections(labelled[labelled["label"] == DENSE.label]))
    return [pair for pair in sections(labelled) if pair not in with_dense]


def dense_reference(section: pd.DataFrame) -> pd.Series | None:
    """The dense configuration of a section with the best median accuracy (usually the only one)."""
    dense = section[section["label"] == DENSE.label]
    if dense.empty:
        return None
    return dense.sort_values("test_acc_median", ascending=False, kind="stable").iloc[0]
