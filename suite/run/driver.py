"""`run_sweep(spec, options)`: run every trial of a validated sweep spec that is not yet in the store.

1. The store is probed, locked for this driver and cleared of damaged files
   (`suite.run.guard.store`); then the plan is made, once (`suite.run.plan`).
   Trials already done are left out *before* Ray starts; if nothing is left,
   Ray is not even imported.
2. Learning rates written `auto` are chosen first (App. G.2: best test accuracy
   at small λ over [0.05, 1]) by Optuna's sampler inside Ray Tune, with a small
   trial budget (`suite.run.ray.phases.run_lr_search`). The choice is stored
   with the search's trials (`suite.run.lr.records`); a later run reuses both
   and searches nothing. Search trials that are grid trials are adopted, not
   trained again.
3. Every remaining trial runs in a Ray worker (`suite.run.worker.execute_trial`),
   which writes its own result, so a killed driver loses no finished trial;
   re-running finishes the sweep without retraining anything. A trial that
   raises is recorded with its traceback and the others go on. With
   `adaptive`, each Table 1 / 2 cell is searched instead of the whole grid.

Ray itself -- start-up, Tune, the callbacks and the searchers -- lives in
`suite.run.ray`; this module only decides what runs.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from rich.markup import escape

from suite.results.files import StoreWriteError
from suite.run.guard.driver_lock import LockLost
from suite.run.lr.records import adopt_search_trials
from suite.run.outcome import RunOptions, SweepOutcome, TuneSetupError, normalize_results
from suite.run.plan import SweepPlan, make_plan
from suite.run.guard.store import guarded_store
from suite.sweep.expansion import Expansion, expand_spec
from suite.sweep.overrides import with_data
from suite.sweep.spec import Spec


def data_fingerprint(spec: Spec, data: str | None, download: bool) -> str:
    """The fingerprint of the spec's dataset's files under `data` (downloaded first where allowed and
    missing); DataError, naming the folder, when the data cannot be had."""
    from suite.core.data.registry import dataset_identity

    return dataset_identity(spec.dataset, data, download=download).fingerprint


def pin_data(spec: Spec, data: str | None, download: bool) -> Spec:
    """The spec pinned to the fingerprint of its dataset's files under `data` (see `data_fingerprint`)."""
    return with_data(spec, data_fingerprint(spec, data, download))


def run_sweep(spec: Spec | Expansion, options: RunOptions | None = None, console: Any | None = None) -> SweepOutcome:
    """Run every trial of `spec` not yet in the store (see the module docstring): a spec, or the expansion of
    one that the command has made (suite.sweep.expansion.expand_spec), pinned here to the data found.

    A store that cannot be written, or another driver on it, raises
    TuneSetupError / StoreBusy before anything trains.
    """
    options = options or RunOptions()
    results = normalize_results(options.results)
    expansion = spec if isinstance(spec, Expansion) else expand_spec(spec)
    expansion = expansion.pinned(data_fingerprint(expansion.spec, options.data, download=True))
    spec = expansion.spec
    outcome = SweepOutcome(sweep=spec.name, results=results)
    wall = time.perf_counter()
    try:
        with guarded_store(results, spec.name, console) as (storage, damaged):
            outcome.damaged = damaged
            plan = make_plan(expansion, results)
            if console is not None:
                from suite.run.summary import data_lines

                for line in data_lines(plan):
                    console.print(line, highlight=False, soft_wrap=True)
            _run_guarded(plan, options, storage, console, outcome)
    except StoreWriteError as exc:
        raise TuneSetupError(str(exc)) from None
    except LockLost as exc:  # another driver took the store over while this one was stopped: stop, non-zero
        outcome.error, outcome.lock_lost = str(exc), True
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM
        outcome.interrupted = True
    except OSError as exc:  # the store failed under the driver mid-sweep: stop with a summary
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        outcome.wall_s = time.perf_counter() - wall
    return outcome


def _count(plan: SweepPlan, outcome: SweepOutcome) -> SweepPlan:
    """The plan with the lr-search trials that are grid trials adopted; its counts into the outcome."""
    plan = plan.with_done(adopt_search_trials(plan.spec, plan.searches, plan.results, plan.trials, set(plan.done)))
    outcome.lrs = dict(plan.chosen)
    outcome.total, outcome.already_done = len(plan.trials), plan.already_done
    return plan


def _run_guarded(plan: SweepPlan, options: RunOptions, storage: str, console: Any | None,
                 outcome: SweepOutcome) -> None:
    spec = plan.spec
    adaptive = options.adaptive or spec.adaptive is not None  # the spec key asks for it too
    outcome.lrs = dict(plan.chosen)
    if not plan.pending:
        plan = _count(plan, outcome)
        if not plan.todo and not adaptive:
            return  # nothing to do: Ray is never started
    from suite.run.ray.phases import run_adaptive, run_grid, run_lr_search
    from suite.run.ray.session import ray_session

    with ray_session(options, spec) as session:
        outcome.ray_started, outcome.ray_start_s, outcome.concurrency = True, session.start_s, session.concurrency
        spec = dataclasses.replace(spec, gpus_per_trial=session.gpus_per_trial)  # auto resolved (run/cluster/gpu_share)
        if session.warning and console is not None:
            console.print(f"[yellow]warning[/]: {escape(session.warning)}", highlight=False, soft_wrap=True)
        if plan.pending:
            start = time.perf_counter()
            chosen = {}
            for search in plan.pending:
                choice = run_lr_search(search, spec, options, plan.results, storage, console)
                if choice is None:
                    outcome.failed_searches.append(search.key)
                    continue
                chosen[search.key] = outcome.lrs[search.key] = choice
                if console is not None:
                    console.print(f"[bold]lr search {search.label}[/]: chose lr {choice['lr']:g} "
                                  f"(test acc {100 * choice['test_acc']:.2f}% at λ={choice['lam']:g}; "
                                  f"{len(choice['trials'])} trial(s))", highlight=False, soft_wrap=True)
            outcome.search_wall_s = time.perf_counter() - start
            plan = _count(plan.with_lrs(chosen), outcome)
            outcome.blocked = plan.blocked
        if adaptive:
            run_adaptive(plan.trials, spec, options, plan.results, storage, console, outcome)
        elif plan.todo:
            run_grid(plan.todo, spec, options, plan.results, storage, console, outcome)


__all__ = ["run_sweep"]
