"""The paper's figures drawn from computed data (`figure_data`): accuracy-compression
Pareto curves (Figs. 1, 8, 9), layer-wise allocation (Fig. 10) and training
dynamics (Figs. 6, 7).

As in rliable's plot_utils, each function takes data that is already chosen, and
a panel function an optional `ax` to draw into; every function returns the
Figure and none writes a file or touches pyplot's global figure registry
(figures are bare `matplotlib.figure.Figure`s, which the caller saves through
the Agg/PDF canvases). Lines carry the paper's method names as their labels, so
tests and callers can find them with `ax.get_lines()`; helper artists (bands,
markers) have labels starting with "_" and stay out of legends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from suite.analysis.configurations import section_of, sections
from suite.methods.labels import label_sort_key, label_style, sort_labels
from suite.analysis.rendering import dataset_name, model_name
from suite.methods.dense import DENSE

# Print-friendly defaults: seaborn's paper context, white grid, and fonts large
# enough to read at column width.
_RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
       "xtick.labelsize": 8, "ytick.labelsize": 8, "pdf.fonttype": 42}

DYNAMICS_QUANTITIES = {  # column: (axis label, scale, factor to the shown unit)
    "test_acc": ("Test accuracy (%)", "linear", 100.0),
    "compression_ratio": ("Compression ratio (log scale)", "log", 1.0),
    "l2_norm": ("Weight norm ‖w‖₂ (log scale)", "log", 1.0),
}


def _new_figure(nrows: int, ncols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    with mpl.rc_context(_RC), sns.axes_style("whitegrid"):
        fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _axes_or_new(ax: Axes | None, width: float, height: float) -> Axes:
    return ax if ax is not None else _new_figure(1, 1, width, height)[1][0, 0]


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


def _line_kwargs(style: dict) -> dict:
    return {k: v for k, v in style.items() if k in ("color", "linestyle", "linewidth")}


# --------------------------------------------------------------------------- Pareto (Figs. 1, 8)

def pareto_panel(section: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """One (model, dataset) of `figure_data.pareto_selection`: per method label a line
    along its frontier with a band from min to median over seeds; Dense is a dotted
    horizontal reference."""
    ax = _axes_or_new(ax, 4.2, 3.3)
    with mpl.rc_context(_RC):
        dense = section[section["label"] == DENSE.label]
        if not dense.empty:
            ax.axhline(100 * dense["test_acc_median"].max(), label=DENSE.label,
                       **_line_kwargs(label_style(DENSE.label)))
        for label in sort_labels(section["label"]):
            if label == DENSE.label:
                continue
            front = section[section["label"] == label]
            style = label_style(label)
            x = front["compression_ratio"].to_numpy(float)
            median = 100 * front["test_acc_median"].to_numpy(float)
            ax.plot(x, median, label=label, **style)
            ax.fill_between(x, 100 * front["test_acc_min"].to_numpy(float), median,
                            color=style["color"], alpha=0.18, linewidth=0, label=f"_{label} min-median")
        ax.set_xscale("log")
        ax.set_xlabel("Compression ratio (counted weights / nonzero, log scale)")
        ax.set_ylabel("Test accuracy (%)")
        if not section.empty:
            ax.set_title(_pair_title(section["model"].iloc[0], section["dataset"].iloc[0]))
    return ax.figure


def pareto_figure(selection: pd.DataFrame, max_cols: int = 3, caption: str | None = None) -> Figure:
    """Test accuracy vs compression ratio (`figure_data.pareto_selection`), one panel
    per (model, dataset) and one legend for all; `caption` (the protocol) above the panels."""
    pairs = sections(selection)
    if not pairs:
        return _empty_figure("No results")
    fig, axes = _new_figure(*_grid(len(pairs), max_cols), 4.2, 3.3)
    flat = axes.ravel()
    for ax, (model, dataset) in zip(flat, pairs):
        pareto_panel(section_of(selection, model, dataset), ax)
    for ax in flat[len(pairs):]:
        ax.set_axis_off()
    with mpl.rc_context(_RC):
        _figure_legend(fig, flat[: len(pairs)])
        if caption:
            fig.suptitle(caption, fontsize=7)
    return fig


# --------------------------------------------------------------------------- layers (Fig. 10)

def _layer_floor(selection: pd.DataFrame) -> float:
    """Where a log axis draws a layer pruned entirely: a third of the smallest nonzero ratio."""
    positive = selection.loc[selection["remaining"] > 0, "remaining"]
    return float(positive.min()) / 3 if not positive.empty else 1e-4


def layers_panel(panel: pd.DataFrame, ax: Axes | None = None, yscale: str = "log",
                 floor: float | None = None) -> Figure:
    """Remaining ratio per layer and method at one chosen compression (the rows of
    `figure_data.layer_selection` for it). Line labels are '<method> (CR <achieved>)';
    on a log axis a layer pruned entirely is drawn at `floor` (default: from `panel`)
    with a ▼ marker."""
    if yscale not in ("log", "linear"):
        raise ValueError(f"yscale {yscale!r}: allowed: 'log', 'linear'")
    ax = _axes_or_new(ax, 4.6, 3.6)
    floor = _layer_floor(panel) if floor is None else floor
    with mpl.rc_context(_RC):
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
        many = len(names) > 8  # conv nets: many layers, rotated; the LeNets' fc1..fc3 read level
        ax.set_xticks(names["layer_index"].to_numpy(float), names["layer"].astype(str).tolist(),
                      rotation=90 if many else 0, fontsize=6 if many else 8)
        ax.set_yscale(yscale)
        ax.set_xlabel("Layer")
        ax.set_ylabel("Remaining ratio (nonzero / total)")
        # Below the panel, never over the data.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2, frameon=False, fontsize=7)
        if not panel.empty:
            ax.set_title(f"Compression ≈ {panel['compression'].iloc[0]:g}×")
    return ax.figure


def layers_figure(selection: pd.DataFrame, yscale: str = "log", caption: str | None = None) -> Figure:
    """Layer-wise remaining ratio per method (`figure_data.layer_selection`), one
    panel per chosen compression ratio (Fig. 10), all with one floor for pruned layers."""
    if selection.empty:
        return _empty_figure("No per-layer counts near the chosen compression ratios")
    floor = _layer_floor(selection)
    targets = list(dict.fromkeys(selection["compression"]))
    fig, axes = _new_figure(1, len(targets), 4.6, 3.6)
    for ax, target in zip(axes[0], targets):
        layers_panel(selection[selection["compression"] == target], ax, yscale, floor)
    first = selection.iloc[0]
    with mpl.rc_context(_RC):
        fig.suptitle(f"Layer-wise allocation: {_pair_title(first['model'], first['dataset'])}"
                     + ("  (▼: layer pruned entirely)" if yscale == "log" else "")
                     + (f"\n{caption}" if caption else ""))
    return fig


# --------------------------------------------------------------------------- dynamics (Figs. 6, 7)

def _lam_text(lam: float) -> str:
    return "λ = n/a" if pd.isna(lam) else f"λ = {lam:.1e}"


def dynamics_panel(data: pd.DataFrame, quantity: str, ax: Axes | None = None) -> Figure:
    """One quantity of `figure_data.dynamics_selection` per epoch, one line per λ (and
    LR, when there are several, and variant), coloured by λ on a log scale."""
    if quantity not in DYNAMICS_QUANTITIES:
        raise ValueError(f"quantity {quantity!r}: allowed: {', '.join(DYNAMICS_QUANTITIES)}")
    ylabel, scale, factor = DYNAMICS_QUANTITIES[quantity]
    ax = _axes_or_new(ax, 3.6, 3.0)
    several_lrs = data["lr"].nunique(dropna=False) > 1
    lams = data["lam"].dropna()
    norm = mpl.colors.LogNorm(lams.min(), lams.max()) if len(lams) and lams.min() > 0 else None
    cmap = mpl.colormaps["viridis"]
    with mpl.rc_context(_RC):
        for (lam, lr, variant), run in data.groupby(["lam", "lr", "variant"], dropna=False, sort=True):
            color = cmap(norm(lam)) if norm is not None and not pd.isna(lam) and lam > 0 else "grey"
            label = _lam_text(lam) + (f", LR {lr:g}" if several_lrs else "") + (f", {variant}" if variant else "")
            values = factor * run[quantity].to_numpy(float)
            if scale == "log":
                values = np.where(values > 0, values, np.nan)
            ax.plot(run["epoch"].to_numpy(float), values, color=color, linewidth=1.3, label=label)
        ax.set_yscale(scale)
        if quantity == "l2_norm" and len(data):
            # A collapsed run's norm falls to ~1e-20: keep the axis on the surviving runs (six decades).
            top = float(np.nanmax(factor * data[quantity].to_numpy(float)))
            if np.isfinite(top) and top > 0:
                ax.set_ylim(bottom=top * 1e-6)
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("Epoch")
        ax.set_ylabel(ylabel)
    return ax.figure


def dynamics_figure(data: pd.DataFrame, caption: str | None = None) -> Figure:
    """Test accuracy, compression ratio (log) and weight norm per epoch
    (`figure_data.dynamics_selection`), one line per λ (Figs. 6-7)."""
    if data.empty:
        return _empty_figure("No training history for the chosen method")
    fig, axes = _new_figure(1, len(DYNAMICS_QUANTITIES), 3.6, 3.0)
    for ax, quantity in zip(axes[0], DYNAMICS_QUANTITIES):
        dynamics_panel(data, quantity, ax)
    with mpl.rc_context(_RC):
        lams = data["lam"].dropna()
        several = data["lr"].nunique(dropna=False) > 1 or data["variant"].nunique(dropna=False) > 1
        if len(lams) and lams.min() > 0 and not several:  # λ alone tells the lines apart: a colour bar
            norm = mpl.colors.LogNorm(lams.min(), lams.max() if lams.max() > lams.min() else lams.min() * 10)
            fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=mpl.colormaps["viridis"]), ax=list(axes[0]),
                         label="Regularization λ (log scale)")
        else:
            handles, labels = axes[0, 0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside right center", frameon=False, title="Regularization λ")
        first = data.iloc[0]
        fig.suptitle(f"Training dynamics of {first['label']}: {_pair_title(first['model'], first['dataset'])}"
                     + (f"\n{caption}" if caption else ""))
    return fig
