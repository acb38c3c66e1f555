"""A store turned into an oracle for `search_replay.py`: per seed and group (method variant), accuracy and
compression ratio as functions of the search axis, interpolated between the store's measured points.

Interpolation rule (per group and seed, on u = log of the axis value: log λ, or log target compression):

* between two measured points that both trained (status ok): test accuracy and log compression ratio
  linearly in u;
* between an ok point and a collapsed or diverged one (empty network, CR inf, chance accuracy): a step at
  the midpoint in u; the ok side holds its measured values up to it;
* outside the measured points: the nearest end's values (the reference store has nothing below
  λ = 3.16e-4, where DWF keeps every weight, or above target 1000, where pruning methods have collapsed).

The oracle's *true* cells use the same rules as the report, over a fine axis (FINE points log-spaced over the
spec's bounds, plus every measured point): Table 1 = the sparsest point whose median accuracy over seeds
is within ε of the dense median; Table 2 = the best mean accuracy among points whose median CR reaches the
level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

FINE = 4000
CHANCE = 0.1


def load_store(path: str) -> pd.DataFrame:
    files = sorted(Path(path).glob("rows/*.parquet"))
    if not files:
        raise SystemExit(f"no rows/*.parquet under {path}")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def group_key(method: str, depth) -> str:
    return method + (f" D={int(depth)}" if depth is not None and not pd.isna(depth) else "")


@dataclass
class SeedCurve:
    """One seed's measured points of one group, sorted by u."""

    u: np.ndarray
    acc: np.ndarray
    logcr: np.ndarray  # inf where collapsed
    broken: np.ndarray  # collapsed or diverged

    def at(self, u: float) -> tuple[float, float, bool]:
        """(accuracy, log CR, broken) at u."""
        n = len(self.u)
        if u <= self.u[0]:
            return float(self.acc[0]), float(self.logcr[0]), bool(self.broken[0])
        if u >= self.u[-1]:
            return float(self.acc[-1]), float(self.logcr[-1]), bool(self.broken[-1])
        j = int(np.searchsorted(self.u, u, side="right"))
        i = max(0, min(j - 1, n - 2))
        ua, ub = self.u[i], self.u[i + 1]
        if self.broken[i] or self.broken[i + 1]:
            k = i if u <= (ua + ub) / 2 else i + 1
            return float(self.acc[k]), float(self.logcr[k]), bool(self.broken[k])
        w = (u - ua) / (ub - ua)
        return (float(self.acc[i] + w * (self.acc[i + 1] - self.acc[i])),
                float(self.logcr[i] + w * (self.logcr[i + 1] - self.logcr[i])), False)


@dataclass
class OracleGroup:
    key: str
    method: str
    depth: float | None
    axis: str  # "lam" | "compression"
    curves: dict[int, SeedCurve] = field(default_factory=dict)

    def answer(self, x: float, seed: int) -> tuple[float, float, str]:
        """(accuracy, compression ratio, status) of one seed at axis value x."""
        acc, logcr, broken = self.curves[seed].at(math.log(x))
        cr = math.exp(logcr) if math.isfinite(logcr) else math.inf
        return acc, cr, ("collapsed" if broken else "ok")

    def medians(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(median CR, median accuracy, mean accuracy) over seeds at each x."""
        acc = np.array([[self.answer(x, s)[0] for x in xs] for s in sorted(self.curves)])
        cr = np.array([[self.answer(x, s)[1] for x in xs] for s in sorted(self.curves)])
        return np.median(cr, axis=0), np.median(acc, axis=0), acc.mean(axis=0)


class Oracle:
    """Answers (group, x, seed) from the store's curves; the dense seeds as measured."""

    def __init__(self, rows: pd.DataFrame, methods: dict[str, str]):
        """`methods`: method name -> axis ("lam" | "compression")."""
        final = rows[rows["point"].fillna("final") == "final"]
        dense = final[final["method"] == "dense"]
        self.dense = {int(r.seed): float(r.test_acc) for r in dense.itertuples()}
        self.total_params = float(final["total_params"].median())
        self.groups: dict[str, OracleGroup] = {}
        for method, axis in methods.items():
            mine = final[final["method"] == method]
            for depth, part in mine.groupby(mine["depth"].fillna(-1)):
                d = None if depth == -1 else depth
                g = OracleGroup(group_key(method, d), method, d, axis)
                col = "lam" if axis == "lam" else "target_compression"
                for seed, s in part.groupby("seed"):
                    s = s.sort_values(col)
                    broken = (s["status"] != "ok").to_numpy() | ~np.isfinite(s["compression_ratio"].to_numpy())
                    g.curves[int(seed)] = SeedCurve(np.log(s[col].to_numpy(float)), s["test_acc"].to_numpy(float),
                                                    np.log(s["compression_ratio"].to_numpy(float)), broken)
                self.groups[g.key] = g

    def dense_median(self) -> float:
        return float(np.median(list(self.dense.values())))

    def true_cells(self, key: str, lo: float, hi: float, eps, levels) -> dict:
        """The oracle's cells on a fine axis: {("eps", e): CR or None, ("level", c): mean acc or None}."""
        g = self.groups[key]
        xs = np.unique(np.concatenate([np.geomspace(lo, hi, FINE),
                                       np.exp(np.concatenate([c.u for c in g.curves.values()]))]))
        xs = xs[(xs >= lo * (1 - 1e-12)) & (xs <= hi * (1 + 1e-12))]
        return cells_of(*g.medians(xs), self.dense_median(), eps, levels, self.total_params)


def cells_of(cr, med_acc, mean_acc, dense: float, eps, levels, params: float) -> dict:
    """The report's Table 1 / Table 2 rules over points given as arrays (median CR, median and mean acc)."""
    out = {}
    cr, med_acc, mean_acc = (np.asarray(a, float) for a in (cr, med_acc, mean_acc))
    for e in eps:
        ok = med_acc >= dense - e / 100 - 1e-9
        out[("eps", e)] = float(cr[ok].max()) if ok.any() else None
    for c in levels:
        reach = 1.0 / cr <= 1.0 / c + max(1e-6, 1.0 / params) + 1e-9  # within one parameter
        out[("level", c)] = float(mean_acc[reach].max()) if reach.any() else None
    return out


def level_band(oracle: Oracle, key: str, level: float, tol: float, extra=()) -> tuple[float, float]:
    """The oracle's mean-accuracy range over configurations whose median CR lies in [level, level x (1+tol)]:
    what the measured rule may land on (empty band -> (nan, nan)). `extra`: axis values to include besides
    the fine axis (a search's own configurations)."""
    g = oracle.groups[key]
    us = np.concatenate([c.u for c in g.curves.values()])
    xs = np.concatenate([np.geomspace(math.exp(us.min()), math.exp(us.max()), FINE), np.asarray(extra, float)])
    cr, _, mean = g.medians(xs)
    inside = (cr >= level * (1 - 1e-6)) & (cr <= level * (1 + tol))
    if not inside.any():
        return math.nan, math.nan
    return float(mean[inside].min()), float(mean[inside].max())
