"""How reports name, order and draw methods, read off the methods themselves.

A result row is labelled by its method, depth and point: "DWF (D=3)",
"Vanilla L1", "L1 + GMP" (its post-hoc pruned rows). Labels sort in the
paper's order (`Method.paper_order`; depths ascending within a method), and
each label has a fixed plot style, so a method looks the same in every table
and figure whichever subset of methods a sweep ran. Methods that are not
registered (rows of a plugin not imported here) keep their name as label, sort
after the paper's methods and get a stable fallback style.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from suite.builtins import METHODS
from suite.methods.base import Method
from suite.methods.style import COLORBLIND, PlotStyle

POSTHOC_SUFFIX = " + GMP"
# Line width and marker size of every curve.
BASE_STYLE = {"linestyle": "-", "linewidth": 1.4, "markersize": 4}
# Fallback for labels without a fixed style (deeper DWF, plugin methods): a
# stable pick by the label's characters from these markers and from the
# print-safe part of the palette (its light pink, grey and yellow left out).
FALLBACK_MARKERS = ("h", "*", "p", "d", "8", "H")
FALLBACK_COLORS = tuple(COLORBLIND[i] for i in (0, 1, 2, 3, 4, 5, 9))


def _is_missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _depth_text(depth: object, default: int | None = None) -> str:
    if _is_missing(depth):
        return "?" if default is None else str(default)
    return str(int(depth))  # depth arrives as float when the column has nulls


def _with_depth(method: Method, depth: object) -> str:
    return f"{method.label} (D={_depth_text(depth, method.fixed_depth)})"


def method_label(method: str, depth: object = None, point: object = "final") -> str:
    """The paper's name for a result row's method variant (tables and legends)."""
    known = METHODS.get(method) if method in METHODS else None
    if known is None:
        base = str(method)
    elif known.has_depth:
        base = _with_depth(known, depth)
    else:
        base = known.label
    if point == "posthoc":
        if known is not None and known.posthoc_label:
            return known.posthoc_label
        return f"{base}{POSTHOC_SUFFIX}"
    return base


def _paper_methods() -> list[Method]:
    ordered = [m for m in METHODS.values() if m.paper_order is not None]
    return sorted(ordered, key=lambda m: m.paper_order)


def _label_ranks() -> dict[str, int]:
    """Rank of each method's label and post-hoc label in the paper's order."""
    ranks: dict[str, int] = {}
    for method in _paper_methods():
        for label in (method.label, method.posthoc_label):
            if label and label not in ranks:
                ranks[label] = len(ranks)
    return ranks


def _depth_label_pattern() -> re.Pattern[str]:
    """Labels of methods with a depth: "DWF (D=3)" -> ("DWF", "3")."""
    names = [re.escape(m.label) for m in METHODS.values() if m.has_depth]
    return re.compile(rf"^({'|'.join(names)}) \(D=(\d+)\)$") if names else re.compile(r"(?!)")


def label_sort_key(label: str) -> tuple[int, int, str]:
    """The methods' `paper_order`, DWF and spred by depth within theirs; labels of no registered method last."""
    ranks = _label_ranks()
    match = _depth_label_pattern().match(label)
    if match and match.group(1) in ranks:
        return (ranks[match.group(1)], int(match.group(2)), label)
    if label in ranks:
        return (ranks[label], 0, label)
    return (len(ranks), 0, label)


def sort_labels(labels: Iterable[str]) -> list[str]:
    return sorted(set(labels), key=label_sort_key)


def _fixed_styles() -> dict[str, PlotStyle]:
    """Label -> style for every label a registered method declares a style for."""
    styles: dict[str, PlotStyle] = {}
    for method in METHODS.values():
        for depth, style in method.depth_styles.items():
            styles[_with_depth(method, depth)] = style
        if method.style is not None and not method.has_depth:
            styles[method.label] = method.style
        if method.posthoc_label and method.posthoc_style is not None:
            styles[method.posthoc_label] = method.posthoc_style
    return styles


def label_style(label: str) -> dict:
    """Colour (hex), marker and line style of a method label (stable across figures)."""
    style = dict(BASE_STYLE)
    fixed = _fixed_styles().get(label)
    if fixed is not None:
        return style | fixed.as_kwargs()
    # Unknown variants (deeper DWF, other post-hoc combos): a stable pick from
    # the palette and markers, dashed when post hoc.
    h = sum(map(ord, label))
    style |= dict(color=FALLBACK_COLORS[h % len(FALLBACK_COLORS)], marker=FALLBACK_MARKERS[h % len(FALLBACK_MARKERS)])
    if label.endswith(POSTHOC_SUFFIX.strip()):
        style["linestyle"] = "--"
    return style
