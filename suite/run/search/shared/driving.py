"""The shared search behind `bench sweep --adaptive --search shared`: `SharedPlan` speaks the driver's side of
`suite.run.search.bisect.plan.AdaptivePlan` (TrialConfigs out, stored rows in, the store as a lookup on resume) over a
`SharedSearch`. Pure: no Ray. The groups, their bounds and seeds, and the fixed (dense) trials are the ones
`AdaptivePlan` builds from the same trials, so both searches search the same things."""

from __future__ import annotations

import math

from suite.config import TrialConfig
from suite.run.search.bisect.plan import AdaptivePlan
from suite.run.search.bisect.cells import Lookup, Rows, primary_rows
from suite.run.search.shared.cells import Cell
from suite.run.search.shared.plan import DENSE, Request, SharedSearch
from suite.run.search.shared.state import GroupState, Result, Rules
from suite.sweep.adaptive_spec import AdaptiveSettings


def result_of(rows: Rows | None, cfg: TrialConfig, axis: str | None) -> Result | None:
    """A trial's rows as the search reads them (its target's row, or the final one); None: it failed."""
    mine = primary_rows(cfg, list(rows or []), axis) if rows else []
    if not mine:
        return None
    row = mine[0]
    acc, cr = row.get("test_acc"), row.get("compression_ratio")
    if acc is None or cr is None or (isinstance(acc, float) and math.isnan(acc)):
        return None
    return Result(float(acc), float(cr), str(row.get("status") or "ok"))


class SharedPlan:
    """Every group and cell of a sweep's shared search; hands out configs to train and takes their rows."""

    def __init__(self, trials: list[TrialConfig], settings: AdaptiveSettings, rules: Rules | None = None,
                 level_rule: str = "interpolated"):
        bisect = AdaptivePlan(trials, settings)  # the same groups, bounds, seeds and fixed trials
        self.settings, self.grid_trials = settings, len(trials)
        self.rules = rules or Rules(tolerance=settings.tolerance, level_rule=level_rule)
        self.fixed = bisect.fixed
        self.bases = {g.key: g for g in bisect.groups}
        seeds = sorted({c.seed for c in self.fixed.values()} | {b.seed for g in bisect.groups for b in g.bases})
        groups = [GroupState(g.key, g.axis, g.lo, g.hi, tuple(b.seed for b in g.bases)) for g in bisect.groups]
        self.search = SharedSearch(groups, tuple(seeds), settings.eps, settings.levels, self.rules,
                                   dense=any(c.method == DENSE for c in self.fixed.values()))
        self.dense = {c.seed: c for c in self.fixed.values() if c.method == DENSE}
        self.other = [c for c in self.fixed.values() if c.method != DENSE]  # run as in the grid, not searched
        self.requests: dict[str, Request] = {}
        self.rows: dict[str, Rows] = {}  # fixed trials' rows

    @property
    def cells(self) -> list[Cell]:
        return self.search.cells

    def config(self, req: Request) -> TrialConfig:
        if req.group == DENSE:
            return self.dense[req.seed]
        cfg = next(c for c in self.bases[req.group].configs(req.x) if c.seed == req.seed)
        self.requests[cfg.config_hash] = req
        return cfg

    def observe(self, cfg: TrialConfig, rows: Rows | None) -> None:
        """The rows of a finished trial (None or [] for a failed one)."""
        h = cfg.config_hash
        if h in self.fixed:
            self.rows[h] = list(rows or [])
            if cfg.method != DENSE:
                return
            req = Request(DENSE, 0.0, cfg.seed)
        else:
            req = self.requests[h]
        self.search.observe(req, self.read(req, cfg, rows))

    def read(self, req: Request, cfg: TrialConfig, rows: Rows | None) -> Result | None:
        """The result of rows; the group learns its weight count (the levels' one-parameter tolerance)."""
        g = self.search.groups.get(req.group)
        if g is not None and g.params is None and rows:
            g.params = float(rows[0].get("total_params") or 0) or None
        return result_of(rows, cfg, g.axis if g is not None else None)

    def advance(self, lookup: Lookup | None = None) -> list[TrialConfig]:
        """Configs to train now. Those `lookup` answers (the store, on resume) are fed in without training."""
        out = []
        for cfg in self.other:
            if cfg.config_hash not in self.rows:
                rows = lookup(cfg) if lookup else None
                if rows is not None:
                    self.rows[cfg.config_hash] = rows
                elif cfg.config_hash not in self.requests:
                    self.requests[cfg.config_hash] = Request("fixed", 0.0, cfg.seed)
                    out.append(cfg)

        def known(req: Request) -> Result | None:
            cfg = self.config(req)
            rows = lookup(cfg) if lookup else None
            if rows is None:
                return None
            if req.group == DENSE:
                self.rows[cfg.config_hash] = rows
            return self.read(req, cfg, rows) or Result(math.nan, 1.0, "failed")

        return out + [self.config(req) for req in self.search.advance(known if lookup else None)]

    def priority(self, cfg: TrialConfig) -> int:
        """Dense first (the ε cells wait for its median, every cell for its spread), then every other trial in the
        order asked."""
        return 0 if cfg.method == DENSE else 1

    @property
    def used(self) -> set[str]:
        return {self.config(r).config_hash for r in self.search.used} | {h for h in self.rows if h in self.fixed}

    @property
    def reused(self) -> set[str]:
        return {self.config(r).config_hash for r in self.search.reused}

    @property
    def pending(self) -> set[str]:
        fixed = {c.config_hash for c in self.other if c.config_hash not in self.rows}
        return {self.config(r).config_hash for r in self.search.pending} | fixed

    @property
    def finished(self) -> bool:
        return self.search.finished and all(c.config_hash in self.rows for c in self.other)

    def cell_line(self, index: int) -> str:
        """'dwf D=3 ε=5: 4 point(s) proposed, 1 of them on one seed · cell 0.00189 · running'."""
        cell = self.cells[index]
        g = self.search.groups[cell.group]
        single = sum(len(g.results.get(x, {})) == 1 for x in dict.fromkeys(cell.path))
        where = "" if cell.result is None else (
            f" · cell CR {cell.result:.4g}" if cell.kind == "eps" else
            f" · {'estimate' if cell.status == 'estimated' else 'cell'} {100 * cell.result:.2f}%")
        return (f"{cell.title}: {len(dict.fromkeys(cell.path))} point(s) proposed, {single} of them on one seed"
                f"{where} · {cell.status}")

    def remaining_bound(self) -> int:
        """At most this many trials are still to come: the queue, plus every running cell's unspent budget for
        every seed (a bound: most points run one seed)."""
        seeds = len(self.search.seeds)
        unspent = sum(max(self.rules.budget - c.spent, 0) * seeds for c in self.cells if c.status == "running")
        return len(self.pending) + unspent

    def summary_lines(self) -> list[str]:
        lines = [self.cell_line(i) for i in range(len(self.cells))]
        used, grid = len(self.used), self.grid_trials
        single = sum(len(s) == 1 for g in self.search.groups.values() for s in g.results.values())
        lines.append(f"shared search: {used} trial(s) used of the full grid's {grid} ({single} point(s) on one "
                     f"seed, never a cell)")
        return lines


__all__ = ["SharedPlan", "result_of"]
