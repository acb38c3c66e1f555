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


def synthetic_rows(trials, points: int = 60, jitter: float = 0.003) -> pd.DataFrame:
    """A store made from known curves (those of tests/test_shared_search.py), measured at `points` log-spaced
    values over each group's grid range: for λ groups CR = 1 + (λ / 3e-4)^3 (DWF-like: every weight kept
    up to 3e-4, then CR ~ λ^3), for compression targets CR = target; accuracy 0.90 - 0.012 ln CR -
    0.1 ln(CR / 3000)^2 beyond CR 3000 (a collapse); per seed a bias (0, +0.2, -0.2 points), a CR bias
    (+10%, 0, -5%) and normal noise of `jitter` fixed per (seed, point). Dense: 0.90 plus the bias."""
    import random

    bias, cr_bias = (0.0, 0.002, -0.002), (0.1, 0.0, -0.05)
    rows, ranges = [], {}
    for t in trials:
        x = t.lam if t.lam is not None else (t.compressions[0] if t.compressions else None)
        key = (t.method, t.depth)
        if x is not None:
            lo, hi = ranges.get(key, (x, x))
            ranges[key] = (min(lo, x), max(hi, x))
    seeds = sorted({t.seed for t in trials})
    for seed in seeds:
        b = bias[seed % 3]
        rows.append({"method": "dense", "depth": None, "lam": None, "target_compression": None, "seed": seed,
                     "point": "final", "status": "ok", "test_acc": 0.90 + b, "compression_ratio": 1.0,
                     "total_params": 266200.0})
        for (method, depth), (lo, hi) in ranges.items():
            for x in np.geomspace(lo, hi, points):
                base = 1.0 + (x / 3e-4) ** 3 if method in ("dwf", "spred", "l1", "pilot") else x
                acc = 0.90 - 0.012 * math.log(base) - 0.1 * max(0.0, math.log(base / 3000)) ** 2
                acc += b + random.Random(f"{seed}/{method}/{depth}/{x!r}").gauss(0.0, jitter)
                rows.append({"method": method, "depth": depth, "seed": seed, "point": "final", "status": "ok",
                             "lam": x if base != x else None, "target_compression": None if base != x else x,
                             "test_acc": max(acc, CHANCE), "total_params": 266200.0,
                             "compression_ratio": base * math.exp(cr_bias[seed % 3]) if base != x else x})
    return pd.DataFrame(rows)
