"""The Tune runs a sweep is made of: one per pending lr search, then the grid or the adaptive search.

Each phase runs its trials through `make_tuner` with a `Phase` for progress
and adds the finished trials' records to the sweep's outcome. A worker that
dies outright is recorded as a failure by the driver (`store.write_failure`).
"""

from __future__ import annotations

import time
from typing import Any

from ray import tune

from suite.config import TrialConfig
from suite.results.store import write_failure
from suite.run.lr import search as lr_search
from suite.run.search.bisect.plan import AdaptivePlan
from suite.run.search.shared.driving import SharedPlan
from suite.run.search.driving import cells_settled, remaining_bound, store_lookup
from suite.run.lr.records import store_choice, usable_search_trials
from suite.run.outcome import RunOptions, SweepOutcome
from suite.run.progress import Phase, describe
from suite.run.ray.searchers import AdaptiveSearcher, optuna_searcher
from suite.run.ray.tuner import TuneProgress, adaptive_trainable, grid_trainable, make_tuner, search_trainable
from suite.run.worker import worker_job
from suite.sweep.spec import LRSearch, Spec


def run_lr_search(search: LRSearch, spec: Spec, options: RunOptions, results: str, storage: str,
                  console: Any | None) -> dict | None:
    """Choose the lr of one `auto` search with Optuna inside Tune; store and return the choice (None: all failed)."""
    settings = search.settings
    base = dict(search.base)
    job = worker_job(spec, results, options.data)
    title = f"lr search {search.label}"
    for round_ in range(lr_search.ROUNDS):
        previous = usable_search_trials(search, results)
        remaining = lr_search.budget(settings) - len(previous)
        if remaining <= 0:
            break
        searcher = optuna_searcher(settings, previous, remaining, round_)
        if console is not None:
            console.print(f"[bold]{title}[/]: {remaining} trial(s) by Optuna (TPE) over {settings.space} "
                          f"[{settings.low:g}, {settings.high:g}] at λ={settings.lam:g}, seed {base['seed']}"
                          + (f" ({len(previous)} done before)" if previous else ""), highlight=False, soft_wrap=True)
        with Phase(title, remaining, {}, console) as phase:
            callback = TuneProgress(
                phase, key_of=lambda c: f"lr={c.get('lr')}", on_crash=None,
                label_of=lambda c, r: f"{search.label} lr={float(r.get('lr', c.get('lr', 0))):.3g}")
            tuner = make_tuner(
                tune.with_parameters(search_trainable, base=base, job=job, space=settings.space), {},
                spec=spec, storage=storage, name=f"lr-{search.key}-{round_}", callback=callback,
                max_concurrent=options.max_concurrent, search_alg=searcher, num_samples=remaining,
                metric="test_acc", mode="max", trial_name=lambda t: f"lr_{t.trial_id}")
            tuner.fit()
    return store_choice(search, spec, results)


def run_grid(todo: list[TrialConfig], spec: Spec, options: RunOptions, results: str, storage: str,
             console: Any | None, outcome: SweepOutcome) -> None:
    """Every trial of `todo` as one Tune grid over config hashes (the configs travel to the workers once)."""
    configs = {cfg.config_hash: cfg.to_dict() for cfg in todo}

    def on_crash(key: str, error: str) -> None:
        try:
            write_failure(results, spec.name, key, configs[key], f"{error}\n\n(recorded by the driver: the Ray "
                                                                  f"worker running this trial died)")
        except OSError:
            pass  # the store fails; the summary lists the trial as failed all the same

    if console is not None:
        console.print(f"[bold]sweep {spec.name}[/]: {len(todo)} trial(s) to run"
                      + (f" ({outcome.already_done} already in the store)" if outcome.already_done else "")
                      + f", {outcome.concurrency} at a time ({spec.cpus_per_trial:g} CPU"
                      + (f", {spec.gpus_per_trial:g} GPU" if spec.gpus_per_trial else "") + " each)",
                      highlight=False, soft_wrap=True)
    start = time.perf_counter()
    with Phase(f"sweep {spec.name}", len(todo), configs, console) as phase:
        callback = TuneProgress(phase, key_of=lambda c: c["config_hash"], on_crash=on_crash)
        tuner = make_tuner(
            tune.with_parameters(grid_trainable, configs=configs, job=worker_job(spec, results, options.data)),
            {"config_hash": tune.grid_search(list(configs))},
            spec=spec, storage=storage, name=f"grid-{spec.name}", callback=callback,
            max_concurrent=options.max_concurrent, trial_name=lambda t: t.config["config_hash"])
        try:
            tuner.fit()
        finally:
            outcome.records.extend(phase.records)
            outcome.grid_wall_s = time.perf_counter() - start


def run_adaptive(trials: list[TrialConfig], spec: Spec, options: RunOptions, results: str, storage: str,
                 console: Any | None, outcome: SweepOutcome) -> None:
    """Search each Table 1 / 2 cell over `trials` (suite.run.search): what the store answers is not trained."""
    shared = options.search == "shared"
    settings = spec.adaptive_settings
    plan = outcome.adaptive = SharedPlan(trials, settings, level_rule=options.level_rule) if shared \
        else AdaptivePlan(trials, settings)
    searcher = AdaptiveSearcher(plan, store_lookup(results, spec.name), results, spec.name, console)
    searcher.advance()  # resume: everything the store answers is fed in before anything trains
    start = time.perf_counter()
    if searcher.queue:
        bound = plan.remaining_bound if shared else (lambda: remaining_bound(plan))
        with Phase(f"adaptive {spec.name}", None, {}, console, remaining=bound,
                   detail=lambda: cells_settled(plan)) as phase:
            callback = TuneProgress(
                phase, key_of=lambda c: c["config_hash"], label_of=lambda c, r: describe(c["cfg"]),
                on_crash=lambda key, error: write_failure(results, spec.name, key, searcher.configs.get(key, {}),
                                                          f"{error}\n\n(recorded by the driver)"))
            tuner = make_tuner(tune.with_parameters(adaptive_trainable, job=worker_job(spec, results, options.data)),
                               {}, spec=spec, storage=storage, name=f"adaptive-{spec.name}", callback=callback,
                               max_concurrent=options.max_concurrent, search_alg=searcher, num_samples=-1,
                               trial_name=lambda t: f"a_{t.trial_id}")
            try:
                tuner.fit()
            finally:
                outcome.records.extend(phase.records)
    outcome.grid_wall_s = time.perf_counter() - start
    outcome.total, outcome.already_done = len(plan.used | plan.pending), len(plan.reused)


__all__ = ["run_adaptive", "run_grid", "run_lr_search"]
