"""The `paper:` key of a sweep spec: the published numbers a report sets its cells beside.

    paper:
      source: Kolb et al., ICLR 2025, Tables 1 and 2 (LeNet-300-100 / F-MNIST)
      compression:                 # Table 1: compression ratio at each ε (points below the paper's dense)
        DWF (D=3): {5: 506, 10: 1422}
      accuracy:                    # Table 2: [mean, std] test accuracy in % at each level, in `levels` order
        Dense: [[89.12, 0.40]]     # one pair: the same at every level
        DWF (D=3): [[87.84, 0.12], [87.66, 0.10], ...]
      levels: [10, 20, 50, 100, 200, 400, 800, 1000]   # compression ratios; default Table 2's

Keys of `compression` and `accuracy` are the method labels the report prints (`bench list`). The
values are data, not code: `suite.analysis.paper` compares them with a report's cells. Knows nothing
of `suite.sweep.parsing`, which turns a `PaperSpecError` into a `SpecError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite.config import is_number
from suite.grid import TABLE2_LEVELS

KEYS = ("source", "compression", "accuracy", "levels")


class PaperSpecError(ValueError):
    def __init__(self, key: str, problem: str, allowed: str):
        super().__init__(f"{key}: {problem}; allowed: {allowed}")
        self.key, self.problem, self.allowed = key, problem, allowed


@dataclass(frozen=True)
class PaperValues:
    source: str = ""
    compression: dict[str, dict[str, float]] = field(default_factory=dict)  # label -> {ε key: CR}
    accuracy: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # label -> [(mean %, std %)]
    levels: tuple[float, ...] = TABLE2_LEVELS
    # The section these numbers are the paper's for: the spec's own model and dataset.
    model: str | None = None
    dataset: str | None = None

    def section(self, table):
        """The rows of a numeric table that belong to this section (all of them when it names none)."""
        if self.model is None or table.empty:
            return table
        return table[(table["model"] == self.model) & (table["dataset"] == self.dataset)]

    def labels(self) -> set[str]:
        """The methods the paper reports for this section (and Dense): what figures show by default."""
        return set(self.compression) | set(self.accuracy) | {"Dense"}

    def references(self) -> dict[tuple[str, str], float]:
        """{(label, ε key): compression ratio} for Table 1's p column."""
        return {(label, key): cr for label, cells in self.compression.items() for key, cr in cells.items()}


def _mapping(value: Any, key: str) -> dict:
    if not isinstance(value, dict):
        raise PaperSpecError(key, f"must be a mapping, got {value!r}", "label: values")
    return value


def _compression(value: Any) -> dict[str, dict[str, float]]:
    out = {}
    for label, cells in _mapping(value, "paper.compression").items():
        where = f"paper.compression.{label}"
        cells = _mapping(cells, where)
        if not all(is_number(e) and e > 0 and is_number(c) and c >= 1 for e, c in cells.items()):
            raise PaperSpecError(where, f"value {cells!r} is not allowed", "{ε points: compression ratio >= 1}")
        out[str(label)] = {f"{e:g}": float(c) for e, c in cells.items()}
    return out


def _accuracy(value: Any, n_levels: int) -> dict[str, list[tuple[float, float]]]:
    out = {}
    for label, cells in _mapping(value, "paper.accuracy").items():
        where = f"paper.accuracy.{label}"
        ok = isinstance(cells, list) and len(cells) in (1, n_levels) and all(
            isinstance(c, list) and len(c) == 2 and all(is_number(x) and 0 <= x <= 100 for x in c) for c in cells)
        if not ok:
            raise PaperSpecError(where, f"value {cells!r} is not allowed",
                                 f"a list of [mean, std] in % per level ({n_levels}), or one pair for all")
        pairs = [(float(m), float(s)) for m, s in cells]
        out[str(label)] = pairs * n_levels if len(pairs) == 1 else pairs
    return out


def parse_paper(value: Any) -> PaperValues:
    block = _mapping(value, "paper")
    unknown = sorted(set(block) - set(KEYS))
    if unknown:
        raise PaperSpecError(f"paper.{unknown[0]}", "unknown key", ", ".join(KEYS))
    levels = block.get("levels", list(TABLE2_LEVELS))
    if not (isinstance(levels, list) and levels and all(is_number(c) and c > 1 for c in levels)):
        raise PaperSpecError("paper.levels", f"value {levels!r} is not allowed", "a list of compression ratios > 1")
    return PaperValues(source=str(block.get("source", "")), compression=_compression(block.get("compression", {})),
                       accuracy=_accuracy(block.get("accuracy", {}), len(levels)),
                       levels=tuple(float(c) for c in levels))


__all__ = ["PaperSpecError", "PaperValues", "parse_paper"]
