"""Adaptive ε-search: each Table 1 / Table 2 cell by bisection instead of a grid. Pure; no Ray.

A *group* is one method variant of the spec (method, depth, lr, ... -- every grid field but the
searched axis and the seed): its axis is log λ for methods that require `lam`, log target compression
for methods with compression targets (SNIP, SynFlow, random, GMP: one target per trial). Its bounds are
the smallest and largest grid value of the spec. A *cell* is one target of one group: an ε of Table 1,
or a Table 2 level (λ-axis groups only; compression-axis groups hit a level exactly, so each level in
bounds is simply run as a target).

Rules (a candidate point is judged when every seed of the spec has a result;
dense runs first, since ε is measured against its median):

* The cell itself is chosen by the report's own rules (`compression_choices`,
  `accuracy_choices`, the typed cells the report's tables are made of) over the
  points the cell has visited, so the search ends on exactly the configuration
  the report would pick among them.
* ε cell: a point *qualifies* when its median accuracy over seeds is within ε of the dense median.
  Bracket: lower = the cell (sparsest qualifying point seen; ties in compression go to the higher
  accuracy, but the bracket starts at the largest tied point), upper = the nearest failing point above
  it on the axis. Accuracy need not be monotone: a qualifying point above a failing one moves the cell
  (and the bracket) up. The cell is resolved only when the failing point is sparser than it: a
  diverged point above it (CR 1) or a non-monotone CR keeps the bisection going until the axis is
  resolved.
* level cell: a point *reaches* the level when its median sparsity does (within one parameter).
  upper = the cell (best mean accuracy among reaching points seen), lower = the nearest non-reaching
  point below it.
* A diverged point (most seeds' loss went non-finite: chance accuracy, CR 1) fails an ε cell like
  any inaccurate point. For a level cell with no reaching point yet it is not "too dense" but a
  ceiling: the search stays below the lowest diverged point, and ends "none" if nothing below it
  reaches the level. Once a point reaches the level, a diverged point below it is just short of it.
* An end not yet evaluated is the grid bound. The next point is the geometric midpoint of the bracket
  (3 significant digits). When the bracket is narrower than a factor 1 + tolerance on the axis, an
  unevaluated bound is evaluated itself; otherwise the cell is resolved ("axis": the compression ratio
  jumps there, e.g. to a collapsed network).
* Stop: resolved when CR(upper) / CR(lower) <= 1 + tolerance (ε) or
  CR(upper) <= level x (1 + tolerance) (level); "budget" after `budget` points.
* Order: pending points train dense first, then Table 1 (ε) points, then Table 2 points (`priority`).
* Each cell's decisions depend only on the results at the points of its own path, so re-running with
  the store's results retraces every path without training and continues where it stopped. Equal
  points of different cells (the first midpoint is common to every cell of a group) are trained once.
"""

from __future__ import annotations

import math
from typing import Iterable

import pandas as pd

from suite.sweep.adaptive_spec import AdaptiveSettings
from suite.config import NON_IDENTITY_FIELDS, REPLICATE_FIELDS, TrialConfig
from suite.analysis.configurations import aggregate_configs
from suite.analysis.selections import ACC_TOL, SPARSITY_TOL_MIN
from suite.analysis.tables import accuracy_choices, compression_choices
from suite.run.search.bisect.cells import Cell, Group, Lookup, Rows, axis_of, levels_of, primary_rows, snap
from suite.methods.dense import DENSE


def require_dense(settings: AdaptiveSettings, methods) -> None:
    """A ValueError unless the dense model is among `methods` (names) or no ε cell is searched:
    the ε cells are judged against the dense median."""
    if settings.eps and DENSE.name not in set(methods):
        raise ValueError("the ε cells are measured against the dense model, which this sweep does not run; "
                         "allowed: a sweep with the dense method (in --methods too, where given), or "
                         "`adaptive: {eps: []}` in the spec")


def require_one_dense(trials: Iterable[TrialConfig]) -> None:
    """A ValueError unless the dense model has at most one configuration per seed: it is the one reference of
    every ε threshold and racing margin, and a second one (an axis on the dense block, e.g. two lr) would
    make the dense median a mixture of models (or, in the shared search, leave all but one unrun)."""
    per_seed: dict[int, list[TrialConfig]] = {}
    for cfg in trials:
        if cfg.method == DENSE.name:  # (trials come without duplicates: one per config hash)
            per_seed.setdefault(cfg.seed, []).append(cfg)
    many = next((cfgs for cfgs in per_seed.values() if len(cfgs) > 1), None)
    if many:
        fields = {k for k, v in many[0].to_dict().items() if any(c.to_dict()[k] != v for c in many[1:])}
        raise ValueError(f"the dense model is the ε cells' reference and has {len(many)} configurations per seed "
                         f"(they differ in {', '.join(sorted(fields))}); allowed: one value of each such field in "
                         "the spec's dense block")


class AdaptivePlan:
    """Every group and cell of a sweep; hands out configs to train and takes their rows."""

    def __init__(self, trials: list[TrialConfig], settings: AdaptiveSettings):
        self.settings, self.grid_trials = settings, len(trials)
        self.fixed: dict[str, TrialConfig] = {}
        groups: dict[str, dict] = {}
        for cfg in trials:
            axis = axis_of(cfg.method)
            if axis is None:
                self.fixed[cfg.config_hash] = cfg
                continue
            drop = {*REPLICATE_FIELDS, *NON_IDENTITY_FIELDS, axis if axis == "lam" else "compressions"}
            ident = tuple(sorted((k, str(v)) for k, v in cfg.to_dict().items() if k not in drop))
            g = groups.setdefault(ident, {"axis": axis, "values": set(), "bases": {}, "cfg": cfg})
            g["values"].update([cfg.lam] if axis == "lam" else cfg.compressions)
            g["bases"].setdefault(cfg.seed, cfg)
        self.groups: list[Group] = []
        for g in groups.values():
            cfg = g["cfg"]
            key = cfg.method + (f" D={cfg.depth}" if cfg.depth is not None else "")
            if sum(o["cfg"].method == cfg.method and o["cfg"].depth == cfg.depth for o in groups.values()) > 1:
                key += f" lr={cfg.lr:g}"
            bases = tuple(g["bases"][s] for s in sorted(g["bases"]))
            self.groups.append(Group(key, g["axis"], snap(min(g["values"])), snap(max(g["values"])), bases))
        if self.groups:
            require_dense(settings, (c.method for c in self.fixed.values()))
        require_one_dense(self.fixed.values())
        self.cells: list[Cell] = []
        for group in self.groups:
            self.cells += [Cell(group, "eps", e) for e in settings.eps]
            self.cells += [Cell(group, "level", c) for c in levels_of(group, settings.levels)]
        self.fixed_rows: dict[str, Rows] = {}
        self.pending: set[str] = set()
        self.used: set[str] = set()  # hashes trained or reused from the store
        self.reused: set[str] = set()  # hashes answered by the store (resume)
        self.where: dict[str, tuple[Group, float, int]] = {}
        self.ranks: dict[str, int] = {}  # hash -> priority (see `priority`)

    def observe(self, cfg: TrialConfig, rows: Rows | None) -> None:
        """The rows of a finished trial (None or [] for a failed one)."""
        h = cfg.config_hash
        self.pending.discard(h)
        self.used.add(h)
        if h in self.fixed:
            self.fixed_rows[h] = list(rows or [])
        elif h in self.where:
            group, x, seed = self.where[h]
            group.results.setdefault(x, {})[seed] = primary_rows(cfg, list(rows or []), group.axis)

    def dense_rows(self) -> pd.DataFrame:
        return pd.DataFrame([r for rows in self.fixed_rows.values() for r in rows if r.get("method") == DENSE.name])

    def dense_ready(self) -> bool:
        dense = [h for h, c in self.fixed.items() if c.method == DENSE.name]
        return bool(dense) and all(h in self.fixed_rows for h in dense)

    def _judge(self, cell: Cell) -> float | None:
        """Update cell's status and bracket from its path; the next axis value, or None."""
        group = cell.group
        seen = [x for x in dict.fromkeys(cell.path) if group.judged(x)]
        if any(not group.judged(x) for x in cell.path):
            return None  # waiting for the last point
        if any(not any(group.results[x].values()) for x in seen):
            cell.status = "failed"
            return None
        agg = aggregate_configs(group.rows(seen)) if seen else pd.DataFrame()
        col = "lam" if group.axis == "lam" else "target_compression"
        stats = {group.x_of(r[col]): r for _, r in agg.iterrows()}
        if cell.kind == "eps":
            return self._judge_eps(cell, seen, stats)
        if group.axis == "compression" and not cell.path:
            return snap(cell.value)  # a target hits the level exactly: just run it
        return self._judge_level(cell, seen, stats)

    def _judge_eps(self, cell: Cell, seen: list[float], stats: dict) -> float | None:
        """An ε cell: the sparsest point within ε of the dense median (Table 1's own choice), bracketed
        from above by the nearest failing point."""
        group, tol = cell.group, self.settings.tolerance
        dense = self.dense_rows()
        if dense.empty or dense["test_acc"].isna().all():
            cell.status = "failed"  # no reference accuracy
            return None
        chosen = compression_choices(pd.concat([dense, group.rows(seen)], ignore_index=True), [cell.value])
        mine = [row for row in chosen if row.label != DENSE.label]
        cell_x = group.x_of(mine[0].cells[0].axis_value(group.axis)) if mine else None
        threshold = chosen[0].dense_acc - cell.value / 100 - ACC_TOL
        bad = [x for x in seen if stats[x]["test_acc_median"] < threshold]
        # Points tied with the cell in compression (the report keeps the most accurate)
        # do not end the search: the bracket starts at the largest of them.
        lower = max((x for x in seen if x not in bad and cell_x is not None
                     and stats[x]["compression_ratio"] == stats[cell_x]["compression_ratio"]), default=None)
        upper = min((x for x in bad if lower is None or x > lower), default=None)
        if cell_x is None and group.lo in seen:
            return self._stop(cell, "none", lower, upper, None)
        if cell_x is not None and (lower >= group.hi or (upper is None and group.hi in seen)):
            return self._stop(cell, "bound", lower, upper, cell_x)  # nothing above the cell fails
        cr = lambda x: float(stats[x]["compression_ratio"])  # noqa: E731
        # Resolved only when the failing point is sparser than the cell, by less than the tolerance.
        # One that is not (a diverged point reports CR 1; CR need not grow with λ) says nothing
        # about how far the boundary lies: bisect on until the axis itself is resolved.
        if lower is not None and upper is not None and cr(lower) < cr(upper) <= cr(lower) * (1 + tol):
            return self._stop(cell, "resolved", lower, upper, cell_x)
        return self._next(cell, seen, lower, upper, None, cell_x)

    def _judge_level(self, cell: Cell, seen: list[float], stats: dict) -> float | None:
        """A level cell: the most accurate point reaching the level (Table 2's own choice), bracketed from
        below by the nearest point short of it."""
        group, tol = cell.group, self.settings.tolerance
        level = 1.0 - 1.0 / cell.value
        chosen = accuracy_choices(group.rows(seen), [level]) if seen else []
        cell_x = group.x_of(chosen[0].cells[0].axis_value(group.axis)) if chosen else None

        def reaches(x):  # the report's Table 2 tolerance: one parameter
            r = stats[x]
            return r["sparsity"] >= level - max(SPARSITY_TOL_MIN, 1.0 / float(r["total_params"])) - ACC_TOL
        # A diverged point (most seeds' loss NaN) reports CR 1, which does not mean "not sparse
        # enough": while no point reaches the level, the lowest one caps the search from above.
        # Below a point that reaches it, it is simply a point short of the level.
        broken = [x for x in seen if group.diverged(x)] if cell_x is None else []
        short = [x for x in seen if x not in broken and not reaches(x)]
        upper, lower = cell_x, max((x for x in short if cell_x is None or x < cell_x), default=None)
        ceiling = min((x for x in broken if lower is None or x > lower), default=None)
        if cell_x is None and group.hi in seen and ceiling is None:
            return self._stop(cell, "none", lower, upper, None)
        if cell_x is not None and (cell_x <= group.lo or (lower is None and group.lo in seen)):
            return self._stop(cell, "bound", lower, upper, cell_x)  # everything below reaches it
        if upper is not None and float(stats[upper]["compression_ratio"]) <= cell.value * (1 + tol):
            return self._stop(cell, "resolved", lower, upper, cell_x)
        return self._next(cell, seen, lower, upper, ceiling, cell_x)

    def _next(self, cell: Cell, seen: list[float], lower, upper, ceiling, cell_x) -> float | None:
        """The bracket's geometric midpoint, an open end to settle, or a stop (axis, none, budget).
        `ceiling`: the lowest diverged point above the bracket (level cells)."""
        group, tol = cell.group, self.settings.tolerance
        cell.bracket, cell.cell_x = (lower, upper), cell_x
        lo = lower if lower is not None else group.lo
        hi = upper if upper is not None else ceiling if ceiling is not None else group.hi
        if hi <= lo * (1 + tol):  # too narrow to split: settle an open end, else done
            if lower is None and group.lo not in seen:
                nxt = group.lo
            elif upper is None and ceiling is None and group.hi not in seen:
                nxt = group.hi
            else:  # nothing reaches the level below a diverged point: "none"
                return self._stop(cell, "axis" if cell_x is not None else "none", lower, upper, cell_x)
        else:
            nxt = snap(math.sqrt(lo * hi))
            if nxt in (lo, hi) or nxt in cell.path:
                return self._stop(cell, "axis", lower, upper, cell_x)
        if len(cell.path) >= self.settings.budget:
            return self._stop(cell, "budget", lower, upper, cell_x)
        return nxt

    @staticmethod
    def _stop(cell: Cell, status: str, lower, upper, cell_x) -> None:
        cell.status, cell.bracket, cell.cell_x = status, (lower, upper), cell_x

    def advance(self, lookup: Lookup | None = None) -> list[TrialConfig]:
        """Configs to train now. Those `lookup` answers (the store, on resume) are fed in without training."""
        out: list[TrialConfig] = []

        def want(cfg: TrialConfig, rank: int) -> bool:
            h = cfg.config_hash
            self.ranks[h] = min(rank, self.ranks.get(h, rank))
            if h in self.pending or h in self.used:
                return False
            rows = lookup(cfg) if lookup else None
            if rows is not None:
                self.reused.add(h)
                self.observe(cfg, rows)
                return True  # something changed: decide again
            self.pending.add(h)
            out.append(cfg)
            return False

        while True:
            changed = any([want(cfg, 0) for cfg in self.fixed.values()])
            for cell in self.cells:
                if cell.status != "running" or (cell.kind == "eps" and not self.dense_ready()):
                    continue
                nxt = self._judge(cell)
                if nxt is not None:
                    cell.path.append(nxt)
                    changed = True
                if cell.path and cell.status == "running":
                    x = cell.path[-1]
                    for cfg in cell.group.configs(x):
                        self.where[cfg.config_hash] = (cell.group, x, cfg.seed)
                        changed = want(cfg, 1 if cell.kind == "eps" else 2) or changed
            if not changed:
                break
        return out

    def priority(self, cfg: TrialConfig) -> int:
        """Which pending config to train first (lowest): dense, then Table 1 (ε) points, then Table 2 points.
        Table 1 cells decide the paper's headline comparison and each of their rounds waits on every seed;
        level cells of the same group often reuse their points."""
        return self.ranks.get(cfg.config_hash, 2)

    @property
    def finished(self) -> bool:
        return not self.pending and all(c.status != "running" for c in self.cells) and \
            all(h in self.fixed_rows for h in self.fixed)


__all__ = ["AdaptivePlan", "Cell", "Group", "axis_of", "require_dense", "snap"]
