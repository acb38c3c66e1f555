"""The paper's names of method variants, their order, and their plot styles.

* label: the paper's name of a method variant (`method_label`), e.g.
  "DWF (D=3)" or "L1 + GMP" (vanilla L1, then magnitude-pruned post hoc).

Tables, legends and figures all take labels, order and colours from here, so a
method reads and looks the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

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


# --------------------------------------------------------------------------- plot styles

def _rgb(hex_colour: str) -> tuple[float, float, float]:
    return tuple(int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))


# seaborn's "colorblind" palette (sns.color_palette("colorblind", 10)), written
# out so that tables, which need labels but draw nothing, do not import seaborn
# and matplotlib; a test keeps it equal to seaborn's.
_PALETTE = [_rgb(c) for c in ("#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC",
                              "#CA9161", "#FBAFE4", "#949494", "#ECE133", "#56B4E9")]
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
