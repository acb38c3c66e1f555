"""The shared search's driver state: groups, their cells, the dense reference; hands out (group, x, seed)
requests and takes their results. Pure: no Ray, no training, no store (a `lookup` answers what is already
known, e.g. the store on resume)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Callable, Iterable

from suite.run.search.bisect.cells import levels_of
from suite.run.search.shared.cells import Cell, Decision, judge_eps
from suite.run.search.shared.levels import judge_level
from suite.run.search.shared.state import GroupState, Result, Rules, margin

DENSE = "dense"


@dataclass(frozen=True)
class Request:
    """One trial to run: a seed of a point of a group (group "dense": the dense model, x = 0)."""

    group: str
    x: float
    seed: int


Lookup = Callable[[Request], "Result | None"]


class SharedSearch:
    """Every group and cell of a sweep's search, sharing one model per group (see `suite.run.search.shared`)."""

    def __init__(self, groups: Iterable[GroupState], seeds: tuple[int, ...], eps: Iterable[float],
                 levels: Iterable[float], rules: Rules = Rules(), dense: bool = True):
        self.rules, self.seeds = rules, tuple(seeds)
        self.groups = {g.key: g for g in groups}
        self.dense: dict[int, Result] = {}
        # Dense runs whenever the sweep has it, also with no ε cell: it is a reported row (Table 2's reference)
        # and its seeds' std widens every cell's racing margin (`margin`).
        self.has_dense = dense
        self.cells: list[Cell] = []
        for g in self.groups.values():
            self.cells += [Cell(g.key, "eps", float(e)) for e in eps]
            self.cells += [Cell(g.key, "level", c) for c in levels_of(g, levels)]
        self.pending: set[Request] = set()
        self.used: set[Request] = set()
        self.reused: set[Request] = set()

    # ------------------------------------------------------------------ results
    def observe(self, req: Request, result: Result | None) -> None:
        """A finished trial's result (None: it failed; recorded as a failed point at chance, CR 1)."""
        self.pending.discard(req)
        self.used.add(req)
        result = result if result is not None else Result(math.nan, 1.0, "failed")
        if req.group == DENSE:
            self.dense[req.seed] = result
        else:
            self.groups[req.group].record(req.x, req.seed, result)

    def dense_ready(self) -> bool:
        return all(s in self.dense for s in self.seeds)

    def threshold(self, eps: float) -> float:
        return statistics.median(r.acc for r in self.dense.values()) - eps / 100

    def dense_std(self) -> float | None:
        accs = [r.acc for r in self.dense.values() if not r.broken]
        return statistics.stdev(accs) if len(accs) > 1 else None

    # ------------------------------------------------------------------ rounds
    def judge(self, cell: Cell) -> Decision:
        g = self.groups[cell.group]
        dense = self.dense_std()
        m = lambda x: margin(self.rules, dense, g.first_seed_noise(x, self.rules.noise_k))  # noqa: E731
        if cell.kind == "eps":
            return judge_eps(g, cell, self.threshold(cell.value), m, self.rules)
        return judge_level(g, cell, m, self.rules)

    def merged(self, g: GroupState, x: float, taken: list[float]) -> float | None:
        """An already proposed point of this round within the tolerance of x (in the fitted log CR and on the
        axis), or None."""
        crs, tau = g.cr_curve(), self.rules.tau
        for y in taken:
            near_axis = abs(math.log(x) - math.log(y)) <= tau
            near_cr = not crs or abs(crs.at(math.log(x)) - crs.at(math.log(y))) <= tau / 2
            if near_axis and near_cr:
                return y
        return None

    def shared_level_point(self, g: GroupState, cell: Cell, taken: list[float]) -> float | None:
        """A point proposed this round whose fitted CR lies within a factor share_factor of a level cell's level
        (λ axis): the cell waits for it instead of proposing its own, since an estimate may rest on it."""
        crs = g.cr_curve()
        if cell.kind != "level" or g.axis != "lam" or not crs:
            return None
        radius = math.log(self.rules.share_factor)
        near = [y for y in taken if abs(crs.at(math.log(y)) - math.log(cell.value)) <= radius]
        return min(near, key=lambda y: abs(crs.at(math.log(y)) - math.log(cell.value)), default=None)

    def group_round(self, g: GroupState) -> list[Request]:
        """Judge every running cell of a group on its points; the seeds they ask for."""
        wanted: list[Request] = []
        taken: list[float] = []
        for cell in self.cells:
            if cell.group != g.key or cell.status != "running":
                continue
            if cell.kind == "eps" and not self.dense_ready():
                continue
            decision = self.judge(cell)
            for x in decision.promote:
                wanted += [Request(g.key, x, s) for s in g.missing(x)]
            if decision.propose is not None:
                shared = self.shared_level_point(g, cell, taken)
                x = self.merged(g, decision.propose, taken) or shared or decision.propose
                cell.spent += x != shared
                cell.path.append(x)
                if x not in taken:
                    taken.append(x)
                    wanted.append(Request(g.key, x, g.seeds[0]))
        return list(dict.fromkeys(wanted))

    def advance(self, lookup: Lookup | None = None) -> list[Request]:
        """Requests to run now (a group is judged only when none of its trials is pending). Those `lookup`
        answers are fed in without running."""
        out: list[Request] = []
        while True:
            wanted = [Request(DENSE, 0.0, s) for s in self.seeds if s not in self.dense] if self.has_dense else []
            # A group is judged only with none of its trials pending, nor a dense one after its first round
            # (its ε cells wait for the dense median, every cell's margin for the dense std): the same rounds
            # whatever order results arrive in.
            busy = {r.group for r in self.pending}
            if any(r.group == DENSE for r in self.pending):
                busy |= {key for key, g in self.groups.items() if g.results}
            for g in self.groups.values():
                if g.key not in busy:
                    wanted += self.group_round(g)
            changed = False
            for req in wanted:
                if req in self.pending or req in self.used:
                    continue
                known = lookup(req) if lookup is not None else None
                if known is not None:
                    self.reused.add(req)
                    self.observe(req, known)
                    changed = True
                else:
                    self.pending.add(req)
                    out.append(req)
            if not changed:
                return out

    @property
    def finished(self) -> bool:
        return not self.pending and all(c.status != "running" for c in self.cells)


def run_serial(search, train: Callable, lookup: Lookup | None = None) -> int:
    """Drive a search to its end one request at a time, without Ray: a `SharedSearch` (requests in, `Result`s
    out) or the bisection's `AdaptivePlan` (TrialConfigs in, rows out); each has `advance(lookup)` and
    `observe(item, result)`. Returns the requests trained."""
    trained = 0
    while True:
        todo = search.advance(lookup)
        if not todo:
            return trained
        for req in todo:
            search.observe(req, train(req))
            trained += 1


__all__ = ["DENSE", "Lookup", "Request", "SharedSearch", "run_serial"]
