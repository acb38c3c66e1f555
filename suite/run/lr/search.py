"""How an `auto` learning rate is searched: Optuna's TPE sampler, its starting points and its budget. No Ray.

The budget counts distinct learning rates trained. A search runs in rounds
(`suite.run.ray.phases.run_lr_search`); each round asks the sampler for what is
missing. At the start, distinct points spread over the range come first, then
TPE; on resume, the stored trials inform the sampler instead.
"""

from __future__ import annotations

import math

import optuna
from optuna.distributions import CategoricalDistribution

from suite.grid import cap_grid, logspace, round_sig
from suite.sweep.spec import LRSearchSettings

ROUNDS = 3  # a suggestion already in the store costs no training; another round fills the gap


class DistinctTPESampler(optuna.samplers.TPESampler):
    """Optuna's TPE sampler that, on a discrete grid, never proposes a value already tried or
    running: a repeat moves to the nearest untried grid value (log scale). TPE on a small
    categorical grid otherwise keeps proposing the best value so far, wasting the budget."""

    def sample_independent(self, study, trial, param_name, param_distribution):
        value = super().sample_independent(study, trial, param_name, param_distribution)
        return self._untried(study, trial, param_name, param_distribution, value)

    def sample_relative(self, study, trial, search_space):
        values = super().sample_relative(study, trial, search_space)
        return {name: self._untried(study, trial, name, search_space[name], value) for name, value in values.items()}

    @staticmethod
    def _untried(study, trial, name, distribution, value):
        if not isinstance(distribution, CategoricalDistribution):
            return value
        taken = {t.params.get(name) for t in study.get_trials(deepcopy=False)
                 if t.number != trial.number and name in t.params}
        free = [c for c in distribution.choices if c not in taken]
        if value not in taken or not free:
            return value
        return min(free, key=lambda c: abs(math.log(float(c)) - math.log(float(value))))


def grid_values(settings: LRSearchSettings) -> list[float]:
    """The search's discrete lr values; [] for a continuous range."""
    return list(settings.values()) if settings.space == "grid" else []


def budget(settings: LRSearchSettings) -> int:
    """Distinct learning rates to train (a grid smaller than the budget is tried whole)."""
    grid = grid_values(settings)
    return min(settings.budget, len(grid)) if grid else settings.budget


def startup_trials(settings: LRSearchSettings) -> int:
    """Trials before TPE takes over from the spread starting points: half the budget."""
    return max(1, math.ceil(settings.budget / 2))


def starting_points(settings: LRSearchSettings, previous: list[dict], remaining: int) -> tuple[list[dict], list | None]:
    """(points to evaluate first, their known rewards or None) for a round of the search."""
    if previous:  # resume: the trials so far inform the sampler
        return [{"lr": p["lr"]} for p in previous], [p["test_acc"] for p in previous]
    n = min(startup_trials(settings), remaining)
    grid = grid_values(settings)
    spread = cap_grid(grid, n) if grid else [round_sig(v, 3) for v in logspace(settings.low, settings.high, n)]
    return [{"lr": v} for v in spread], None


def make_sampler(settings: LRSearchSettings, round_: int) -> DistinctTPESampler:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return DistinctTPESampler(seed=settings.sampler_seed + round_, n_startup_trials=startup_trials(settings),
                              constant_liar=True)


__all__ = ["DistinctTPESampler", "ROUNDS", "budget", "grid_values", "make_sampler", "starting_points",
           "startup_trials"]
