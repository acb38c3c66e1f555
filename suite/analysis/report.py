"""Result store -> the paper's tables (Table 1: compression within ε, Table 2:
accuracy at sparsity levels), their text formats, and `write_report`.

Everything here except `write_report` is pure: DataFrames in, DataFrames (or
strings) out. Accuracies are fractions in [0, 1] throughout; only the display
formatters turn them into percentages.

Vocabulary:

* label: the paper's name of a method variant (`method_label`), e.g.
  "DWF (D=3)" or "L1 + GMP" (vanilla L1, then magnitude-pruned post hoc).
* configuration: all rows sharing `CONFIG_KEYS` that differ only in seed;
  tables and curves aggregate over seeds within a configuration.
"""

from __future__ import annotations

import json

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from suite.methods.base import DWF_INIT_FIELDS, METHODS
from suite.analysis.terminal import print_table
from suite.results.store import ROW_SCHEMA, SweepData, load_sweep

if TYPE_CHECKING:  # rich is only needed by the terminal renderer
    import rich.console
    import rich.table


# Seeds are aggregated over; everything else that shapes a result is a key.
# `point_key` separates the post-hoc points of one trial when a row carries no
# target_compression (it is -1 whenever target_compression is set, so it never
# splits seeds of the same target).
# `settings` holds every other config field of the trial (base_init,
# finetune_epochs, batch_size, ...), so e.g. GMP with and without fine-tuning
# are different configurations, never seeds of one.
CONFIG_KEYS: tuple[str, ...] = (
    "label", "model", "dataset", "depth", "lam", "lr", "target_compression", "epochs", "point", "point_key",
    "settings",
)
# Config fields that are keys of their own, aggregated over (seed), or not
# part of a result (sweep; compressions: a GMP trial's target list, whose
# rows are split by target_compression).
_NOT_SETTINGS = {"model", "dataset", "method", "depth", "lam", "lr", "epochs", "seed", "sweep", "compressions"}

AGG_COLUMNS: tuple[str, ...] = CONFIG_KEYS + (
    "config_id", "method", "test_acc_median", "test_acc_mean", "test_acc_std", "test_acc_min", "test_acc_max",
    "compression_ratio", "sparsity", "total_params", "n_seeds", "n_rows", "n_not_ok",
)

DEFAULT_EPS: tuple[float, ...] = (5, 10)
DEFAULT_SPARSITIES: tuple[float, ...] = (0.90, 0.95, 0.98, 0.99, 0.995, 0.9975, 0.99875, 0.999)

# Accuracies come from counts over a test set of at most ~10^6 samples, so two
# accuracies closer than 1e-9 are the same number up to float round-off
# (e.g. 0.9 - 0.05 need not equal the stored 0.85). The ε boundary is inclusive
# up to this tolerance.
ACC_TOL = 1e-9

# A pruning method asked for sparsity s keeps ceil or round of (1 - s) * total
# weights, so it may miss s by less than one parameter; a level counts as
# reached within one parameter (and never less than 1e-6), plus round-off.
SPARSITY_TOL_MIN = 1e-6

# The counting convention (README, Methods), stated in every table caption.
COUNTING = (
    " Counted set: the weights of all Linear/Conv layers; compression ratio = counted weights / nonzero "
    "(|w| ≥ 1.19e-7) counted weights. Pruning methods score and prune weights only; biases stay trainable "
    "and are not counted (DWF factorizes them, uncounted), unless a configuration sets include_bias."
)

COMPRESSION_CAPTION = (
    "Compression ratio (sparsity) of the sparsest configuration whose median test accuracy over seeds "
    "is within ε percentage points of the dense model's median test accuracy (boundary inclusive; "
    "ties in compression broken by higher accuracy). Dense row: the reference accuracy. "
    "'–': no configuration qualifies or the method was not run."
) + COUNTING

ACCURACY_RULE = (
    "Mean ± std (over seeds, ddof=1) of the test accuracy (%) at each sparsity level s. Per method, the "
    "cell is the configuration (λ, LR, depth, target, ...; seeds aggregated) with the best mean test "
    "accuracy among those whose median sparsity over seeds is ≥ s, where s counts as reached within "
    "one parameter (tolerance max(1e-6, 1/total_params)); ties go to the sparser configuration. "
    "Pruning methods with a target at s therefore enter with exactly that target. Dense row: the dense "
    "accuracy as the reference, repeated across levels. '–': no configuration reaches s."
) + COUNTING

# The paper's names of models and datasets, for titles and table sections.
MODEL_NAMES = {
    "lenet300": "LeNet-300-100", "lenet5": "LeNet-5", "vgg16": "VGG-16", "vgg19": "VGG-19",
    "resnet18": "ResNet-18", "resnet34": "ResNet-34", "wrn16_8": "WRN-16-8",
}
DATASET_NAMES = {
    "mnist": "MNIST", "fmnist": "F-MNIST", "kmnist": "K-MNIST", "cifar10": "CIFAR10",
    "cifar100": "CIFAR100", "tinyimagenet": "Tiny ImageNet", "tiny_imagenet": "Tiny ImageNet",
}

TABLE_NAMES: tuple[str, ...] = ("compression", "accuracy")
PLOT_NAMES: tuple[str, ...] = ("pareto", "layers", "dynamics")


class MissingDenseError(ValueError):
    """A (model, dataset) has no dense rows, so ε has no reference accuracy."""


# --------------------------------------------------------------------------- labels

_BASE_LABELS = {
    "dense": "Dense", "pilot": "PILoT", "l1": "Vanilla L1", "gmp": "GMP", "gmp_oneshot": "GMP (one-shot)",
    "snip": "SNIP", "synflow": "SynFlow", "random": "Random",
}
# GMP (retrained) rows are "final" points; one-shot GMP's are post-hoc prunings
# of the dense network, labelled apart so no curve mixes the two.
_POSTHOC_LABELS = {"pilot": "PILoT + GMP", "l1": "L1 + GMP", "gmp_oneshot": "GMP (one-shot)"}
# Paper order of the fixed labels; DWF and spred are ordered by depth.
_LABEL_ORDER = ("Dense", "DWF", "spred", "PILoT", "PILoT + GMP", "Vanilla L1", "L1 + GMP", "GMP", "GMP (one-shot)",
                "SNIP", "SynFlow", "Random")
_DEPTH_LABEL = re.compile(r"^(DWF|spred) \(D=(\d+)\)$")


def _is_missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _depth_text(depth: object, default: int | None = None) -> str:
    if _is_missing(depth):
        return "?" if default is None else str(default)
    return str(int(depth))  # depth arrives as float when the column has nulls


def method_label(method: str, depth: object = None, point: object = "final") -> str:
    """The paper's name for a result row's method variant (tables and legends)."""
    if method == "dwf":
        base = f"DWF (D={_depth_text(depth)})"
    elif method == "spred":
        base = f"spred (D={_depth_text(depth, default=2)})"
    else:
        base = _BASE_LABELS.get(method, str(method))
    if point == "posthoc":
        return _POSTHOC_LABELS.get(method, f"{base} + GMP")
    return base


def label_sort_key(label: str) -> tuple[int, int, str]:
    """Paper order: Dense, DWF by depth, spred, PILoT, L1, GMP, SNIP, SynFlow, Random, others."""
    match = _DEPTH_LABEL.match(label)
    if match:
        return (_LABEL_ORDER.index(match.group(1)), int(match.group(2)), label)
    if label in _LABEL_ORDER:
        return (_LABEL_ORDER.index(label), 0, label)
    return (len(_LABEL_ORDER), 0, label)


def sort_labels(labels: Iterable[str]) -> list[str]:
    return sorted(set(labels), key=label_sort_key)


def model_name(model: str) -> str:
    return MODEL_NAMES.get(model, model)


def dataset_name(dataset: str) -> str:
    return DATASET_NAMES.get(dataset, dataset)


# --------------------------------------------------------------------------- configurations

def _ensure_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """Hand-made or older frames may lack schema columns; add them as nulls."""
    missing = [name for name in ROW_SCHEMA.names if name not in rows.columns]
    if not missing:
        return rows.copy()
    return pd.concat([rows, pd.DataFrame({name: [None] * len(rows) for name in missing}, index=rows.index)], axis=1)


def _settings_key(config_json, method: str) -> str:
    """Canonical text of a trial's remaining config fields ('' for hand-made rows),
    less the fields its method does not read (the DWF init's, for a non-factorized
    method: a GMP run is the same configuration whatever omega_min said)."""
    if not isinstance(config_json, str) or not config_json:
        return ""
    config = json.loads(config_json)
    known = METHODS.get(method)
    ignored = _NOT_SETTINGS | (DWF_INIT_FIELDS if known is not None and not known.factorized else set())
    return json.dumps({k: v for k, v in config.items() if k not in ignored}, sort_keys=True)


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
    return agg[list(AGG_COLUMNS)]


def pareto_front(configs: pd.DataFrame, x: str = "compression_ratio", y: str = "test_acc_median") -> pd.DataFrame:
    """Configurations not dominated in both x and y (higher is better), sorted by x."""
    finite = configs[np.isfinite(configs[x].astype(float)) & configs[y].notna()]
    ordered = finite.sort_values([x, y], ascending=False, kind="stable")
    # Walking from the most compressed down, a point survives only if it is
    # more accurate than everything more compressed (equal x: the best y wins).
    best_so_far = ordered[y].cummax().shift(fill_value=-np.inf)
    return ordered[ordered[y] > best_so_far].sort_values(x, kind="stable")


def sections(configs: pd.DataFrame) -> list[tuple[str, str]]:
    """The (model, dataset) pairs present, sorted."""
    if configs.empty:
        return []
    pairs = configs[["model", "dataset"]].drop_duplicates()
    return sorted((str(m), str(d)) for m, d in pairs.itertuples(index=False))


def sections_without_dense(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(model, dataset) pairs with results but no dense rows (no ε reference)."""
    if rows.empty:
        return []
    labelled = assign_configs(rows)
    with_dense = set(sections(labelled[labelled["label"] == "Dense"]))
    return [pair for pair in sections(labelled) if pair not in with_dense]


def _dense_reference(section: pd.DataFrame) -> pd.Series | None:
    """The dense configuration with the best median accuracy (usually the only one)."""
    dense = section[section["label"] == "Dense"]
    if dense.empty:
        return None
    return dense.sort_values("test_acc_median", ascending=False, kind="stable").iloc[0]


# --------------------------------------------------------------------------- Table 1

def _eps_key(eps: float) -> str:
    return f"{eps:g}"


def _compression_cell_columns(eps: float) -> list[str]:
    e = _eps_key(eps)
    return [f"cr@{e}", f"sparsity@{e}", f"acc@{e}", f"n_seeds@{e}", f"lam@{e}", f"lr@{e}", f"target@{e}"]


def compression_columns(eps: Sequence[float] = DEFAULT_EPS) -> list[str]:
    return ["model", "dataset", "label", "dense_acc"] + [c for e in eps for c in _compression_cell_columns(e)]


def _sparsest_within(candidates: pd.DataFrame, threshold: float, eps: float) -> dict:
    """Cell of one (label, ε): the sparsest configuration at or above the threshold."""
    columns = _compression_cell_columns(eps)
    ok = candidates[(candidates["test_acc_median"] >= threshold - ACC_TOL) & candidates["compression_ratio"].notna()]
    if ok.empty:
        return dict.fromkeys(columns, np.nan)
    best = ok.sort_values(["compression_ratio", "test_acc_median"], ascending=False, kind="stable").iloc[0]
    values = (best["compression_ratio"], best["sparsity"], best["test_acc_median"], best["n_seeds"],
              best["lam"], best["lr"], best["target_compression"])
    return dict(zip(columns, values))


def compression_table(
    rows: pd.DataFrame,
    eps: Sequence[float] = DEFAULT_EPS,
    missing_dense: Literal["raise", "skip"] = "raise",
) -> pd.DataFrame:
    """Paper Table 1: per (model, dataset) section and label, the sparsest configuration
    whose median test accuracy is >= dense median - ε/100, for each ε (percentage points).

    One row per (model, dataset, label); labels in paper order, Dense first (its cells
    are its own sparsest qualifying configuration, i.e. the reference, CR ~ 1). Every
    label seen anywhere in `rows` gets a row in every section, so a method missing
    from one section shows as empty (NaN) cells, never 0.

    A section without dense rows has no reference: `missing_dense="raise"` raises
    MissingDenseError naming those sections; "skip" leaves them out (list them with
    `sections_without_dense`).
    """
    columns = compression_columns(eps)
    configs = aggregate_configs(rows)
    if configs.empty:
        return pd.DataFrame(columns=columns)
    no_dense = sections_without_dense(rows)
    if no_dense and missing_dense == "raise":
        names = ", ".join(f"{m}/{d}" for m, d in no_dense)
        raise MissingDenseError(
            f"no dense rows for {names}: the compression table measures ε against the dense accuracy; "
            "run the 'dense' method for these, or pass missing_dense='skip'"
        )
    labels = sort_labels(configs["label"])
    records = []
    for model, dataset in sections(configs):
        if (model, dataset) in no_dense:
            continue
        section = configs[(configs["model"] == model) & (configs["dataset"] == dataset)]
        reference = float(_dense_reference(section)["test_acc_median"])
        for label in labels:
            record = {"model": model, "dataset": dataset, "label": label, "dense_acc": reference}
            candidates = section[section["label"] == label]
            for e in eps:
                record.update(_sparsest_within(candidates, reference - e / 100, e))
            records.append(record)
    return _typed(pd.DataFrame(records, columns=columns))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Seed counts as nullable integers: empty cells stay NA instead of becoming 0."""
    for col in table.columns:
        if col.startswith("n_seeds@"):
            table[col] = table[col].astype("Float64").round().astype("Int64")
    return table


# --------------------------------------------------------------------------- Table 2

def _level_key(level: float) -> str:
    return f"{level:g}"


def _accuracy_cell_columns(level: float) -> list[str]:
    s = _level_key(level)
    return [f"mean@{s}", f"std@{s}", f"n_seeds@{s}", f"sparsity@{s}", f"lam@{s}", f"lr@{s}", f"target@{s}"]


def accuracy_columns(sparsities: Sequence[float] = DEFAULT_SPARSITIES) -> list[str]:
    return ["model", "dataset", "label"] + [c for s in sparsities for c in _accuracy_cell_columns(s)]


def _cell_values(config: pd.Series | None, level: float) -> dict:
    columns = _accuracy_cell_columns(level)
    if config is None:
        return dict.fromkeys(columns, np.nan)
    values = (config["test_acc_mean"], config["test_acc_std"], config["n_seeds"], config["sparsity"],
              config["lam"], config["lr"], config["target_compression"])
    return dict(zip(columns, values))


def _best_at_level(candidates: pd.DataFrame, level: float) -> pd.Series | None:
    """ACCURACY_RULE for one (label, level)."""
    one_param = 1.0 / candidates["total_params"].astype(float)
    tol = np.maximum(SPARSITY_TOL_MIN, one_param.fillna(0.0)) + ACC_TOL
    ok = candidates[candidates["sparsity"] >= level - tol]
    if ok.empty:
        return None
    return ok.sort_values(["test_acc_mean", "sparsity"], ascending=False, kind="stable").iloc[0]


def accuracy_table(rows: pd.DataFrame, sparsities: Sequence[float] = DEFAULT_SPARSITIES) -> pd.DataFrame:
    """Paper Table 2: mean ± std test accuracy per (model, dataset, label) and sparsity
    level, choosing configurations by ACCURACY_RULE. Labels seen anywhere get a row in
    every section; cells are NaN where nothing reaches the level."""
    columns = accuracy_columns(sparsities)
    configs = aggregate_configs(rows)
    if configs.empty:
        return pd.DataFrame(columns=columns)
    labels = sort_labels(configs["label"])
    records = []
    for model, dataset in sections(configs):
        section = configs[(configs["model"] == model) & (configs["dataset"] == dataset)]
        for label in labels:
            candidates = section[section["label"] == label]
            record = {"model": model, "dataset": dataset, "label": label}
            for level in sparsities:
                chosen = _dense_reference(section) if label == "Dense" else _best_at_level(candidates, level)
                record.update(_cell_values(chosen, level))
            records.append(record)
    return _typed(pd.DataFrame(records, columns=columns))


# --------------------------------------------------------------------------- display formats

EMPTY_CELL = "–"


def _format_cr(cr: float) -> str:
    if math.isinf(cr):
        return "∞"
    return f"{cr:.0f}" if cr >= 10 else f"{cr:.2f}"


def _section_columns(model: str, dataset: str) -> dict:
    return {"Model": model_name(model), "Dataset": dataset_name(dataset)}


def format_compression_table(table: pd.DataFrame, eps: Sequence[float] | None = None) -> pd.DataFrame:
    """Display strings as in the paper: 'CR (sparsity %)'; Dense shows its accuracy."""
    eps = eps if eps is not None else [c.split("@", 1)[1] for c in table.columns if c.startswith("cr@")]
    keys = [_eps_key(float(e)) for e in eps]
    headers = [f"ε = {k} pp" for k in keys]
    records = []
    for _, row in table.iterrows():
        record = _section_columns(row["model"], row["dataset"]) | {"Method": row["label"]}
        for key, header in zip(keys, headers):
            if row["label"] == "Dense":
                record[header] = f"{100 * row['dense_acc']:.2f}% acc. (reference)"
            elif pd.isna(row[f"cr@{key}"]):
                record[header] = EMPTY_CELL
            else:
                record[header] = f"{_format_cr(row[f'cr@{key}'])} ({100 * row[f'sparsity@{key}']:.2f}%)"
        records.append(record)
    return pd.DataFrame(records, columns=["Model", "Dataset", "Method"] + headers)


def format_accuracy_table(table: pd.DataFrame) -> pd.DataFrame:
    """Display strings 'mean ± std' in percent, one column per sparsity level."""
    levels = [c.split("@", 1)[1] for c in table.columns if c.startswith("mean@")]
    headers = [f"{100 * float(s):g}%" for s in levels]
    records = []
    for _, row in table.iterrows():
        record = _section_columns(row["model"], row["dataset"]) | {"Method": row["label"]}
        for level, header in zip(levels, headers):
            mean, std = row[f"mean@{level}"], row[f"std@{level}"]
            if pd.isna(mean):
                record[header] = EMPTY_CELL
            elif pd.isna(std):  # a single seed has no spread
                record[header] = f"{100 * mean:.2f}"
            else:
                record[header] = f"{100 * mean:.2f} ± {100 * std:.2f}"
        records.append(record)
    return pd.DataFrame(records, columns=["Model", "Dataset", "Method"] + headers)


def _split_sections(display: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(heading, body) per Model/Dataset section, in order of appearance."""
    if not {"Model", "Dataset"} <= set(display.columns):
        return [("", display)]
    out = []
    keys = display[["Model", "Dataset"]].apply(tuple, axis=1) if len(display) else pd.Series(dtype=object)
    for key in dict.fromkeys(keys):
        body = display[keys == key].drop(columns=["Model", "Dataset"])
        out.append((f"{key[0]} on {key[1]}", body))
    return out


def _markdown_cell(value: object) -> str:
    text = EMPTY_CELL if _is_missing(value) else str(value)
    return text.replace("|", "\\|")


def _markdown_grid(body: pd.DataFrame) -> str:
    header = "| " + " | ".join(_markdown_cell(c) for c in body.columns) + " |"
    align = "|" + "|".join([":---"] + ["---:"] * (len(body.columns) - 1)) + "|"
    lines = [header, align]
    lines += ["| " + " | ".join(_markdown_cell(v) for v in row) + " |" for row in body.itertuples(index=False)]
    return "\n".join(lines)


def to_markdown(display: pd.DataFrame, caption: str = "") -> str:
    """Pipe tables (no tabulate needed), one per Model/Dataset section."""
    parts = [caption] if caption else []
    if display.empty:
        return "\n\n".join(parts + ["_No results._"]) + "\n"
    for heading, body in _split_sections(display):
        if heading:
            parts.append(f"**{heading}**")
        parts.append(_markdown_grid(body))
    return "\n\n".join(parts) + "\n"


def to_csv(table: pd.DataFrame) -> str:
    """The numeric table (fractions, not percentages): empty cells stay empty."""
    return table.to_csv(index=False)


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LATEX_SYMBOLS = {"±": r"$\pm$", "ε": r"$\varepsilon$", "λ": r"$\lambda$", "–": "--", "∞": r"$\infty$",
                  "≥": r"$\geq$", "≈": r"$\approx$", "×": r"$\times$"}


def latex_escape(text: str) -> str:
    escaped = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))
    for symbol, macro in _LATEX_SYMBOLS.items():
        escaped = escaped.replace(symbol, macro)
    return escaped


def to_latex(display: pd.DataFrame, caption: str = "", label: str = "") -> str:
    """A booktabs table; sections become full-width bold rows as in the paper's Table 2."""
    split = _split_sections(display)
    columns = list(split[0][1].columns) if split else list(display.columns)
    n = len(columns)
    lines = [r"\begin{table}[t]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{l{'r' * (n - 1)}}}", r"\toprule",
              " & ".join(latex_escape(c) for c in columns) + r" \\", r"\midrule"]
    for i, (heading, body) in enumerate(split):
        if heading:
            if i:
                lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{n}}}{{l}}{{\textbf{{{latex_escape(heading)}}}}} \\")
        for row in body.itertuples(index=False):
            lines.append(" & ".join(latex_escape(EMPTY_CELL if _is_missing(v) else v) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- write_report

def missing_methods(rows: pd.DataFrame, expected: Iterable[str]) -> list[str]:
    """Methods the sweep asked for (its spec's `methods`) without a single result row."""
    present = set(rows["method"].dropna()) if not rows.empty else set()
    return [m for m in expected if m not in present]


def _safe_name(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", str(p)) for p in parts)


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write_table(out: Path, name: str, table: pd.DataFrame, display: pd.DataFrame, caption: str) -> list[Path]:
    return [
        _write_text(out / f"{name}.md", to_markdown(display, caption)),
        _write_text(out / f"{name}.csv", to_csv(table)),
        _write_text(out / f"{name}.tex", to_latex(display, caption, label=f"tab:{name}")),
    ]


def _write_figure(out: Path, name: str, fig) -> list[Path]:
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=200, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def _check_names(requested: Iterable[str], allowed: Sequence[str], what: str) -> list[str]:
    # A bare string is one name, not a sequence of letters.
    requested = [requested] if isinstance(requested, str) else list(requested)
    unknown = [r for r in requested if r not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {list(allowed)}")
    return requested


def _failure_line(failure: dict) -> str:
    config = failure.get("config") or {}
    what = ", ".join(f"{k}={config[k]}" for k in ("method", "model", "dataset", "depth", "lam", "seed")
                     if config.get(k) is not None)
    # The first paragraph is the error itself (the traceback and notes follow a blank line).
    error = " ".join((failure.get("error") or "").strip().split("\n\n")[0].split())
    return f"- `{failure.get('config_hash', '?')}` {what}: {error[:500] or 'no error message'}"


def store_notes(data: SweepData, root: str) -> list[str]:
    """What the store check left out of the figures and tables, for the index."""
    notes = [f"skipped a damaged file: {d.describe(root)}" for d in data.damaged]
    if data.duplicates:
        notes.append(f"dropped {data.duplicates} duplicate row(s) (same config_hash, seed and point_id)")
    for table, hashes in data.lacking.items():
        notes.append(f"{len(hashes)} trial(s) lack their {table} table, so they are missing from the figures "
                     f"that use it: {', '.join(hashes)}")
    return notes


def _index_markdown(sweep: str, rows: pd.DataFrame, written: list[Path], failures: list[dict],
                    notes: list[str], expected_methods: Sequence[str] | None) -> str:
    lines = [f"# Report: {sweep}", ""]
    n_trials = rows["config_hash"].nunique() if not rows.empty else 0
    lines += [f"{len(rows)} result rows from {n_trials} trials; {len(failures)} failed trials.", ""]
    tables = [p for p in written if p.suffix in {".md", ".csv", ".tex"}]
    figures = [p for p in written if p.suffix == ".png"]
    if tables:
        lines += ["## Tables", ""]
        for stem in dict.fromkeys(p.stem for p in tables):
            links = " · ".join(f"[{p.suffix[1:]}]({p.name})" for p in tables if p.stem == stem)
            lines.append(f"- {stem}: {links}")
        lines += ["", f"Accuracy-table rule: {ACCURACY_RULE}", ""]
    if figures:
        lines += ["## Figures", ""]
        for png in figures:
            lines += [f"### {png.stem}", "", f"![{png.stem}]({png.name})", "", f"[pdf]({png.stem}.pdf)", ""]
    lines += ["## Failed trials", ""]
    lines += [_failure_line(f) for f in failures] or ["None."]
    lines += ["", "## Missing methods", ""]
    if expected_methods is None:
        lines.append("Not judged: no sweep spec named like this sweep, so the methods it asked for are unknown.")
    else:
        missing = missing_methods(rows, expected_methods)
        lines.append(", ".join(missing) if missing else "None: every method of the sweep's spec has results.")
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _report_tables(rows: pd.DataFrame, tables: list[str], eps: Sequence[float], notes: list[str]):
    """(name, numeric table, display table, caption) of each requested table."""
    if "compression" in tables:
        for model, dataset in sections_without_dense(rows):
            notes.append(f"compression table: {model}/{dataset} left out, it has no dense rows (no ε reference)")
        table = compression_table(rows, eps, missing_dense="skip")
        yield "compression", table, format_compression_table(table, eps), COMPRESSION_CAPTION
    if "accuracy" in tables:
        table = accuracy_table(rows)
        yield "accuracy", table, format_accuracy_table(table), ACCURACY_RULE


def _report_figures(rows, layers, history, plots: list[str], notes: list[str]):
    """(file stem, Figure) of each requested plot that has data."""
    from suite.analysis import plots as figures  # matplotlib is only imported when plotting

    if rows.empty:
        notes.append("no result rows: figures skipped")
        return
    if "pareto" in plots:
        yield "pareto", figures.pareto_figure(rows)
    for model, dataset in sections(rows):
        pair = f"{model}/{dataset}"
        if "layers" in plots:
            if figures.layer_selection(rows, layers, model=model, dataset=dataset).empty:
                notes.append(f"layers: no per-layer counts near the chosen compression ratios for {pair}")
            else:
                yield _safe_name("layers", model, dataset), figures.layers_figure(rows, layers, model=model, dataset=dataset)
        if "dynamics" in plots:
            if figures.dynamics_selection(history, rows, model=model, dataset=dataset).empty:
                notes.append(f"dynamics: no training history of the default method for {pair}")
            else:
                yield _safe_name("dynamics", model, dataset), figures.dynamics_figure(history, rows, model=model, dataset=dataset)


def write_report(
    root: str | Path,
    sweep: str,
    out_dir: str | Path,
    tables: Iterable[str] = TABLE_NAMES,
    plots: Iterable[str] = PLOT_NAMES,
    eps: Sequence[float] = DEFAULT_EPS,
    console: "rich.console.Console | None" = None,
    expected_methods: Sequence[str] | None = None,
) -> list[Path]:
    """Load a sweep's store, write the requested tables (md, csv, tex) and figures
    (png, pdf) plus index.md into out_dir, and return the written paths.

    The only function of the report that writes files. Figures are built on bare
    matplotlib Figures (no pyplot), which save through the Agg/PDF canvases, so no
    display is needed. With a console, each table is also printed to it.
    """
    tables = _check_names(tables, TABLE_NAMES, "table(s)")
    plots = _check_names(plots, PLOT_NAMES, "plot(s)")
    data = load_sweep(root, sweep)  # damaged files skipped, copies of rows dropped
    rows, layers, history, failures = data.rows, data.layers, data.history, data.failures
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    notes: list[str] = []
    for name, table, display, caption in _report_tables(rows, tables, eps, notes):
        written += _write_table(out, name, table, display, caption)
        if console is not None:
            print_table(console, display, f"{sweep}: {name}")
    if plots:
        for stem, fig in _report_figures(rows, layers, history, plots, notes):
            written += _write_figure(out, stem, fig)
    notes = list(dict.fromkeys(notes + store_notes(data, str(root))))
    written.append(_write_text(out / "index.md",
                               _index_markdown(sweep, rows, written, failures, notes, expected_methods)))
    if console is not None:
        console.print(f"wrote {len(written)} files to {out}")
    return written
