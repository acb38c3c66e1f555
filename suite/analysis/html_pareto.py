"""The report page's Pareto figure as inline SVG in which every configuration is a point that names
itself on hover: matplotlib draws it (one scatter per method label, with the frontier of
`figure_data.pareto_selection` as a line), and each point of the saved SVG gets a <title>, the
tooltip browsers show, as in matplotlib's SVG tooltip example. No script, no file, no network.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from suite.analysis.configurations import aggregate_configs, assign_configs, section_of, sections
from suite.analysis.figure_data import pareto_selection
from suite.analysis.rendering import dataset_name, model_name
from suite.methods.dense import DENSE
from suite.methods.labels import label_style, sort_labels

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
GID = "cfg-{}"  # the group id of a method label's points (its index among the figure's scatters)
_RC = {"font.size": 10, "axes.labelsize": 10, "legend.fontsize": 9, "xtick.labelsize": 9, "ytick.labelsize": 9,
       "svg.fonttype": "path"}


def _number(value: object, fmt: str) -> str | None:
    return None if value is None or pd.isna(value) else format(float(value), fmt)


def point_text(config: pd.Series) -> str:
    """A configuration in words, for its tooltip: label, what was swept, median accuracy, CR and seeds."""
    parts = [str(config["label"])]
    for key, name, fmt in (("lam", "λ", ".3g"), ("target_compression", "target CR", "g"), ("lr", "lr", "g"),
                           ("depth", "depth", "g"), ("epochs", "epochs", "g")):
        text = _number(config.get(key), fmt)
        parts += [f"{name} {text}"] if text is not None else []
    parts.append(f"median test acc. {100 * float(config['test_acc_median']):.2f}%")
    parts.append(f"CR {float(config['compression_ratio']):.4g} (sparsity {100 * float(config['sparsity']):.2f}%)")
    parts.append(f"seeds {config['seed_list']} ({int(config['n_seeds'])})")
    if config.get("settings"):
        parts.append(f"settings {config['settings']}")
    return " · ".join(parts)


def configurations(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration (`aggregate_configs`) that a log axis can show, with its seeds as text."""
    configs = aggregate_configs(rows)
    seeds = assign_configs(rows).groupby("config_id")["seed"].agg(
        lambda s: ", ".join(str(int(x)) for x in sorted(set(s.dropna()))))
    configs = configs.assign(seed_list=configs["config_id"].map(seeds).fillna(""))
    cr = configs["compression_ratio"].astype(float)
    return configs[np.isfinite(cr) & (cr > 0) & configs["test_acc_median"].notna()].reset_index(drop=True)


def _panel(ax, configs: pd.DataFrame, frontier: pd.DataFrame, order: list[str]) -> list[list[str]]:
    """Draw one section; return the tooltips of each scatter, in drawing order."""
    tips = []
    for label in sort_labels(configs["label"]):
        style, points = label_style(label), configs[configs["label"] == label]
        line = frontier[frontier["label"] == label].sort_values("compression_ratio")
        if label == DENSE.label:
            ax.axhline(100 * points["test_acc_median"].max(), color=style["color"], linestyle=":", linewidth=1)
        elif not line.empty:
            ax.plot(line["compression_ratio"], 100 * line["test_acc_median"], color=style["color"],
                    linestyle=style.get("linestyle", "-"), linewidth=1.2)
        scatter = ax.scatter(points["compression_ratio"].astype(float), 100 * points["test_acc_median"].astype(float),
                             color=style["color"], marker=style.get("marker") or "o", s=24, alpha=0.8, label=label)
        scatter.set_gid(GID.format(len(order)))
        order.append(label)
        tips.append([point_text(c) for _, c in points.iterrows()])
    ax.set_xscale("log")
    ax.set_xlabel("Compression ratio (weights / nonzero weights, log scale)")
    ax.set_ylabel("Median test accuracy over seeds (%)")
    return tips


def pareto_svg_figure(rows: pd.DataFrame) -> tuple[Figure, list[list[str]]]:
    """The figure (one panel per (model, dataset)) and the tooltip of each point of each scatter."""
    configs = configurations(rows)
    frontier = pareto_selection(aggregate_configs(rows))
    pairs = sections(configs)
    tips: list[list[str]] = []
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(11.0, 5.4 * max(len(pairs), 1)), layout="constrained")
        axes = fig.subplots(max(len(pairs), 1), 1, squeeze=False)[:, 0]
        order: list[str] = []
        for ax, (model, dataset) in zip(axes, pairs):
            tips += _panel(ax, section_of(configs, model, dataset), section_of(frontier, model, dataset), order)
            ax.set_title(f"{model_name(model)} on {dataset_name(dataset)}: every configuration (hover a point)")
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig, tips


def _points(group: ET.Element) -> list[tuple[ET.Element, ET.Element]]:
    """(parent, element) of each drawn point of a scatter's group, in drawing order: matplotlib writes a
    point as a <use> of a marker it defines once, or as a <path> of its own when that is shorter."""
    found = []
    for parent in group.iter():
        if parent.tag != f"{{{SVG}}}defs":
            found += [(parent, child) for child in parent if child.tag in (f"{{{SVG}}}use", f"{{{SVG}}}path")]
    return found


def _with_titles(svg_text: str, tips: list[list[str]]) -> str:
    """The SVG with each point wrapped in a <g class="point"> holding its <title> (the tooltip). A scatter
    whose point count differs from its tooltips (a point matplotlib did not draw) is left bare."""
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", XLINK)
    root = ET.fromstring(svg_text)
    for metadata in root.findall(f"{{{SVG}}}metadata"):
        root.remove(metadata)
    for index, texts in enumerate(tips):
        group = root.find(f".//{{{SVG}}}g[@id='{GID.format(index)}']")
        points = [] if group is None else _points(group)
        if len(points) != len(texts):
            continue
        for (parent, point), text in zip(points, texts):
            wrapper = ET.Element(f"{{{SVG}}}g", {"class": "point"})
            ET.SubElement(wrapper, f"{{{SVG}}}title").text = text
            position = list(parent).index(point)
            parent.remove(point)
            wrapper.append(point)
            parent.insert(position, wrapper)
    return ET.tostring(root, encoding="unicode")


def pareto_svg(rows: pd.DataFrame) -> str:
    """Inline SVG (an <svg> element, no XML prolog) of every configuration with its tooltip."""
    fig, tips = pareto_svg_figure(rows)
    buffer = io.StringIO()
    # A fixed salt makes the SVG's element ids (random by default) the same on every run: a report is
    # regenerated byte for byte from its store.
    with mpl.rc_context({"svg.hashsalt": "bench-report"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return _with_titles(buffer.getvalue(), tips)


__all__ = ["configurations", "pareto_svg", "pareto_svg_figure", "point_text"]
