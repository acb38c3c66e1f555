"""Tune Searcher adapters: Optuna's sampler for an lr search, and the adaptive search's `AdaptivePlan`."""

from __future__ import annotations

from typing import Any

from ray import tune
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch
from rich.markup import escape

from suite.config import TrialConfig
from suite.run.search.driving import cell_line, trial_rows
from suite.run.lr.search import grid_values, make_sampler, starting_points
from suite.sweep.spec import LRSearchSettings


def optuna_searcher(settings: LRSearchSettings, previous: list[dict], remaining: int, round_: int) -> OptunaSearch:
    """Optuna (distinct-value TPE) over the search's lr space, started from `previous` or spread points."""
    grid = grid_values(settings)
    space = {"lr": tune.choice(grid) if grid else tune.loguniform(settings.low, settings.high)}
    points, rewards = starting_points(settings, previous, remaining)
    return OptunaSearch(space=space, metric="test_acc", mode="max", sampler=make_sampler(settings, round_),
                        points_to_evaluate=points, evaluated_rewards=rewards)


class AdaptiveSearcher(Searcher):
    """Thin adapter: hands Tune what `suite.run.search.bisect.plan.AdaptivePlan` (or the shared search's
    `suite.run.search.shared.driving.SharedPlan`) asks for, all cells side by side, and feeds each finished trial's
    stored rows back to it."""

    def __init__(self, plan, lookup, results: str, sweep: str, console: Any | None = None):
        super().__init__(metric="test_acc", mode="max")
        self.plan, self.lookup, self.results, self.sweep, self.console = plan, lookup, results, sweep, console
        self.queue: list[TrialConfig] = []
        self.running: dict[str, TrialConfig] = {}
        self.lines: dict[int, str] = {}
        self.configs: dict[str, dict] = {}  # hash -> config, for failures the driver records

    def __getstate__(self) -> dict:  # Tune pickles its state with the searcher; the console stays here
        return {**self.__dict__, "console": None}

    def advance(self) -> None:
        self.queue.extend(self.plan.advance(self.lookup))
        for i in range(len(self.plan.cells) if self.console is not None else 0):
            own = getattr(self.plan, "cell_line", None)  # the shared search words its own lines
            line = own(i) if own is not None else cell_line(self.plan, i)
            if self.lines.get(i) != line:  # per search: its bracket and trials spent, when they change
                self.lines[i] = line
                self.console.print(f"[cyan]search[/] {escape(line)}", highlight=False, soft_wrap=True)

    def suggest(self, trial_id: str):
        if not self.queue:
            self.advance()
        if not self.queue:
            return Searcher.FINISHED if self.plan.finished else None
        # Lowest priority first, in the order the plan asked within one priority.
        cfg = self.queue.pop(min(range(len(self.queue)), key=lambda i: self.plan.priority(self.queue[i])))
        self.running[trial_id] = cfg
        self.configs[cfg.config_hash] = cfg.to_dict()
        return {"config_hash": cfg.config_hash, "cfg": cfg.to_dict()}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        cfg = self.running.pop(trial_id, None)
        if cfg is not None:
            self.plan.observe(cfg, None if error else trial_rows(self.results, self.sweep, cfg.config_hash))
            self.advance()


__all__ = ["AdaptiveSearcher", "optuna_searcher"]
