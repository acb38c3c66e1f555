"""Result store -> the paper's figures: accuracy-compression Pareto curves
(Figs. 1, 8, 9), layer-wise allocation (Fig. 10) and training dynamics (Figs. 6, 7).

Every function takes DataFrames and returns a matplotlib Figure; none writes a
file or touches pyplot's global figure registry (figures are bare
`matplotlib.figure.Figure`s, saved by the caller through the Agg/PDF canvases).
Lines carry the paper's method names as their labels, so tests and callers can
find them with `ax.get_lines()`; helper artists (bands, markers) have labels
starting with "_" and stay out of legends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from suite.analysis.report import (
    aggregate_configs,
    assign_configs,
    dataset_name,
    label_sort_key,
    model_name,
    pareto_front,
    sections,
    sort_labels,
)

# Print-friendly defaults: seaborn's paper context, white grid, and fonts large
# enough to read at column width.
_RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
       "xtick.labelsize": 8, "ytick.labelsize": 8, "pdf.fonttype": 42}

_PALETTE = sns.color_palette("colorblind", 10)
# Fixed colours per method so a method looks the same in every figure,
# whichever subset of methods a sweep ran.
_FIXED_STYLES = {
    "Dense": dict(color="black", marker="", linestyle=":"),
    "DWF (D=2)": dict(color=_PALETTE[0], marker="o"),
    "DWF (D=3)": dict(color=_PALETTE[1], marker="s"),
    "DWF (D=4)": dict(color=_PALETTE[2], marker="D"),
    "spred (D=2)": dict(color=_PALETTE[4], marker="v"),
    # Two dark colours of Paul Tol's colour-blind-safe "muted" scheme: the
    # palette's light pink and yellow vanish in print.
    "PILoT": dict(color="#882255", marker="P"),
    "PILoT + GMP": dict(color="#882255", marker="P", linestyle="--"),
    "Vanilla L1": dict(color="#332288", marker="X"),
    "L1 + GMP": dict(color="#332288", marker="X", linestyle="--"),
    "GMP": dict(color=_PALETTE[3], marker="^"),
    "GMP (one-shot)": dict(color=_PALETTE[3], marker="v", linestyle="--"),
    "SNIP": dict(color=_PALETTE[5], marker="<"),
    "SynFlow": dict(color=_PALETTE[9], marker=">"),
    "Random": dict(color=_PALETTE[7], marker="."),
}
_EXTRA_MARKERS = ("h", "*", "p", "d", "8", "H")
_EXTRA_COLORS = [_PALETTE[i] for i in (0, 1, 2, 3, 4, 5, 9)]  # print-safe part of the palette


def label_style(label: str) -> dict:
    """Colour, marker and line style of a method label (stable across figures)."""
    style = dict(linestyle="-", linewidth=1.4, markersize=4)
    if label in _FIXED_STYLES:
        return style | _FIXED_STYLES[label]
    # Unknown variants (deeper DWF, other post-hoc combos): a stable pick from
    # the palette and markers, dashed when post hoc.
    h = sum(map(ord, label))
    style |= dict(color=_EXTRA_COLORS[h % len(_EXTRA_COLORS)], marker=_EXTRA_MARKERS[h % len(_EXTRA_MARKERS)])
    if label.endswith("+ GMP"):
        style["linestyle"] = "--"
    return style


def _new_figure(nrows: int, ncols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    with mpl.rc_context(_RC), sns.axes_style("whitegrid"):
        fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _empty_figure(message: str) -> Figure:
    fig, axes = _new_figure(1, 1, 4.0, 2.5)
    axes[0, 0].set_axis_off()
    axes[0, 0].text(0.5, 0.5, message, ha="center", va="center", transform=axes[0, 0].transAxes)
    return fig


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    ncols = min(n, max_cols)
    return math.ceil(n / ncols), ncols


def _pair_title(model: str, dataset: str) -> str:
    return f"{model_name(model)} on {dataset_name(dataset)}"


def _figure_legend(fig: Figure, axes: Sequence) -> None:
    """One legend for all panels, in paper order, below the panels."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    labels = sorted(entries, key=label_sort_key)
    if labels:
        fig.legend([entries[lab] for lab in labels], labels, loc="outside lower center",
                   ncols=min(len(labels), 5), frameon=False)


# --------------------------------------------------------------------------- Pareto (Figs. 1, 8)

def _pareto_panel(ax, section: pd.DataFrame) -> None:
    dense = section[section["label"] == "Dense"]
    if not dense.empty:
        ax.axhline(100 * dense["test_acc_median"].max(), label="Dense", **_line_kwargs(label_style("Dense")))
    for label in sort_labels(section["label"]):
        if label == "Dense":
            continue
        front = pareto_front(section[(section["label"] == label) & (section["compression_ratio"] > 0)])
        if front.empty:
            continue
        style = label_style(label)
        x = front["compression_ratio"].to_numpy(float)
        ax.plot(x, 100 * front["test_acc_median"].to_numpy(float), label=label, **style)
        ax.fill_between(x, 100 * front["test_acc_min"].to_numpy(float), 100 * front["test_acc_median"].to_numpy(float),
                        color=style["color"], alpha=0.18, linewidth=0, label=f"_{label} min-median")
    ax.set_xscale("log")
    ax.set_xlabel("Compression ratio (total / nonzero params, log scale)")
    ax.set_ylabel("Test accuracy (%)")


def _line_kwargs(style: dict) -> dict:
    return {k: v for k, v in style.items() if k in ("color", "linestyle", "linewidth")}


def pareto_figure(rows: pd.DataFrame, max_cols: int = 3) -> Figure:
    """Test accuracy vs compression ratio, one panel per (model, dataset).

    Per method label: the line joins the Pareto frontier of its configurations
    (median over seeds, not dominated in both accuracy and compression), the band
    spans min..median over seeds, and Dense is a dotted horizontal reference.
    """
    configs = aggregate_configs(rows)
    pairs = sections(configs)
    if not pairs:
        return _empty_figure("No results")
    fig, axes = _new_figure(*_grid(len(pairs), max_cols), 4.2, 3.3)
    flat = axes.ravel()
    with mpl.rc_context(_RC):
        for ax, (model, dataset) in zip(flat, pairs):
            section = configs[(configs["model"] == model) & (configs["dataset"] == dataset)]
            _pareto_panel(ax, section)
            ax.set_title(_pair_title(model, dataset))
        for ax in flat[len(pairs):]:
            ax.set_axis_off()
        _figure_legend(fig, flat[: len(pairs)])
    return fig


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
    return frame[(frame["model"] == model) & (frame["dataset"] == dataset)]


def _representative_row(labelled: pd.DataFrame, config_id: int) -> pd.Series:
    """Seed 0 if the configuration has it, else its first seed."""
    members = labelled[labelled["config_id"] == config_id].sort_values("seed", kind="stable")
    zero = members[members["seed"] == 0]
    return (zero if not zero.empty else members).iloc[0]


def _closest_config(candidates: pd.DataFrame, target: float, max_factor: float | None) -> pd.Series | None:
    finite = candidates[np.isfinite(candidates["compression_ratio"].astype(float)) & (candidates["compression_ratio"] > 0)]
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
    whose median compression is closest (in log) to it, at seed 0 or its first seed.

    Configurations more than `max_factor` away from the chosen compression are
    left out (None keeps the closest whatever its distance): a method that never
    got near a ratio should not be drawn as if it had.
    """
    columns = ["compression", "label", "achieved", "layer", "layer_index", "remaining"]
    rows = _select_pair(rows, model, dataset)
    if rows.empty or layers.empty:
        return pd.DataFrame(columns=columns)
    labelled = assign_configs(rows)
    configs = aggregate_configs(rows)
    layers = layers.assign(point_id=pd.to_numeric(layers["point_id"], errors="coerce").fillna(-1))
    parts = []
    for target in compressions:
        for label in sort_labels(configs["label"]):
            if label == "Dense":
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
                "compression": target, "label": label, "achieved": row["compression_ratio"],
                "layer": own["layer"].to_numpy(), "layer_index": own["layer_index"].to_numpy(),
                "remaining": own["nonzero_params"].to_numpy(float) / own["total_params"].to_numpy(float),
            }))
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _layers_panel(ax, panel: pd.DataFrame, floor: float, yscale: str) -> None:
    for label in sort_labels(panel["label"]):
        part = panel[panel["label"] == label]
        style = label_style(label)
        y = part["remaining"].to_numpy(float)
        x = part["layer_index"].to_numpy(float)
        shown = np.where(y > 0, y, floor) if yscale == "log" else y
        ax.plot(x, shown, label=f"{label} (CR {part['achieved'].iloc[0]:.0f})", **style)
        if yscale == "log" and (y <= 0).any():
            # A log axis cannot show 0: draw fully pruned layers at the floor.
            ax.plot(x[y <= 0], np.full((y <= 0).sum(), floor), linestyle="none", marker="v",
                    markersize=7, color=style["color"], label=f"_{label} pruned layers")
    names = panel.drop_duplicates("layer_index").sort_values("layer_index")
    ax.set_xticks(names["layer_index"].to_numpy(float), names["layer"].astype(str).tolist(), rotation=90, fontsize=6)
    ax.set_yscale(yscale)
    ax.set_xlabel("Layer")
    ax.set_ylabel("Remaining ratio (nonzero / total)")
    ax.legend(loc="best", frameon=False)


def layers_figure(
    rows: pd.DataFrame,
    layers: pd.DataFrame,
    compressions: Sequence[float] = (10, 100, 1000),
    model: str | None = None,
    dataset: str | None = None,
    yscale: str = "log",
    max_factor: float | None = 2.0,
) -> Figure:
    """Layer-wise remaining ratio per method, one panel per chosen compression ratio
    (Fig. 10). Line labels are '<method> (CR <achieved>)'; on a log axis a layer
    pruned entirely is drawn at the bottom with a ▼ marker."""
    selected = layer_selection(rows, layers, compressions, model, dataset, max_factor)
    if selected.empty:
        return _empty_figure("No per-layer counts near the chosen compression ratios")
    positive = selected.loc[selected["remaining"] > 0, "remaining"]
    floor = float(positive.min()) / 3 if not positive.empty else 1e-4
    targets = list(dict.fromkeys(selected["compression"]))
    fig, axes = _new_figure(1, len(targets), 4.6, 3.6)
    pair = _select_pair(rows, model, dataset).iloc[0]
    with mpl.rc_context(_RC):
        for ax, target in zip(axes[0], targets):
            _layers_panel(ax, selected[selected["compression"] == target], floor, yscale)
            ax.set_title(f"Compression ≈ {target:g}×")
        fig.suptitle(f"Layer-wise allocation: {_pair_title(pair['model'], pair['dataset'])}"
                     + ("  (▼: layer pruned entirely)" if yscale == "log" else ""))
    return fig


# --------------------------------------------------------------------------- dynamics (Figs. 6, 7)

def _default_method(labelled: pd.DataFrame) -> tuple[str, float | None]:
    """DWF with the largest depth present, else the first non-dense method."""
    dwf = labelled[labelled["method"] == "dwf"]
    if not dwf.empty:
        return "dwf", float(dwf["depth"].max())
    others = sorted(set(labelled["method"].dropna()) - {"dense"}) or sorted(set(labelled["method"].dropna()))
    return (others[0], None) if others else ("dwf", None)


def dynamics_selection(
    history: pd.DataFrame,
    rows: pd.DataFrame,
    method: str | None = None,
    depth: int | None = None,
    model: str | None = None,
    dataset: str | None = None,
) -> pd.DataFrame:
    """Per-epoch history of one method/depth and (model, dataset), median over
    seeds per (λ, lr, epoch). Default: DWF at the largest depth present."""
    columns = ["label", "model", "dataset", "lam", "lr", "epoch", "test_acc", "compression_ratio", "l2_norm"]
    if rows.empty or history.empty:
        return pd.DataFrame(columns=columns)
    labelled = assign_configs(_select_pair(rows, model, dataset))
    if method is None:
        method, default_depth = _default_method(labelled)
        depth = depth if depth is not None else default_depth
    chosen = labelled[labelled["method"] == method]
    if depth is not None:
        chosen = chosen[chosen["depth"] == depth]
    chosen = chosen[chosen["point"] == "final"]
    trials = chosen.drop_duplicates("config_hash")[["config_hash", "label", "model", "dataset", "lam", "lr", "seed"]]
    merged = history.drop(columns=["lr"], errors="ignore").merge(trials, on="config_hash")
    if merged.empty:
        return pd.DataFrame(columns=columns)
    merged["compression_ratio"] = merged["compression_ratio"].astype(float).replace([np.inf, -np.inf], np.nan)
    keys = ["label", "model", "dataset", "lam", "lr", "epoch"]
    return merged.groupby(keys, dropna=False, sort=True)[["test_acc", "compression_ratio", "l2_norm"]].median().reset_index()[columns]


def _lam_text(lam: float) -> str:
    return "λ = n/a" if pd.isna(lam) else f"λ = {lam:.1e}"


def dynamics_figure(
    history: pd.DataFrame,
    rows: pd.DataFrame,
    method: str | None = None,
    depth: int | None = None,
    model: str | None = None,
    dataset: str | None = None,
) -> Figure:
    """Test accuracy, compression ratio (log) and weight norm per epoch, one line
    per λ (median over seeds), coloured by λ on a log scale (Figs. 6-7)."""
    data = dynamics_selection(history, rows, method, depth, model, dataset)
    if data.empty:
        return _empty_figure("No training history for the chosen method")
    runs = list(data.groupby(["lam", "lr"], dropna=False, sort=True))
    several_lrs = data["lr"].nunique(dropna=False) > 1
    lams = data["lam"].dropna()
    norm = mpl.colors.LogNorm(lams.min(), lams.max()) if len(lams) and lams.min() > 0 else None
    cmap = mpl.colormaps["viridis"]
    fig, axes = _new_figure(1, 3, 3.6, 3.0)
    panels = [("test_acc", "Test accuracy (%)", "linear", 100.0),
              ("compression_ratio", "Compression ratio (log scale)", "log", 1.0),
              ("l2_norm", "Weight norm ‖w‖₂ (log scale)", "log", 1.0)]
    with mpl.rc_context(_RC):
        for ax, (column, ylabel, scale, factor) in zip(axes[0], panels):
            for (lam, lr), run in runs:
                color = cmap(norm(lam)) if norm is not None and not pd.isna(lam) and lam > 0 else "grey"
                label = _lam_text(lam) + (f", LR {lr:g}" if several_lrs else "")
                values = factor * run[column].to_numpy(float)
                if scale == "log":
                    values = np.where(values > 0, values, np.nan)
                ax.plot(run["epoch"].to_numpy(float), values, color=color, linewidth=1.3, label=label)
            ax.set_yscale(scale)
            ax.set_xlabel("Epoch")
            ax.set_ylabel(ylabel)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", frameon=False, title="Regularization λ")
        first = data.iloc[0]
        fig.suptitle(f"Training dynamics of {first['label']}: {_pair_title(first['model'], first['dataset'])}")
    return fig
