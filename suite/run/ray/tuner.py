"""The Tuner every phase of a sweep uses, the callback that reports its trials, and the trainables.

The trainables only call `suite.run.worker.execute_trial` and report what it
returns; the callback runs in the driver and feeds Tune's trial events to a
`suite.run.progress.Phase`, recording a worker that died as a failed trial.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ray import tune

from suite.run.progress import Phase
from suite.run.worker import execute_trial
from suite.grid import round_sig
from suite.sweep.spec import Spec


def grid_trainable(params: dict, configs: dict, job: dict) -> None:
    """One grid trial: its config travels once (with_parameters), the trial names it by hash."""
    tune.report(execute_trial(configs[params["config_hash"]], job))


def search_trainable(params: dict, base: dict, job: dict, space: str) -> None:
    """One lr-search trial at the lr Optuna proposed (rounded in a range, so repeats are recognised)."""
    lr = float(params["lr"]) if space == "grid" else round_sig(float(params["lr"]), 3)
    tune.report({**execute_trial({**base, "lr": lr}, job, reuse_done=True), "lr": lr})


def adaptive_trainable(params: dict, job: dict) -> None:
    """One trial the adaptive searcher asked for (its whole config comes with it)."""
    tune.report(execute_trial(params["cfg"], job))


class TuneProgress(tune.Callback):
    """Driver-side: feeds Tune's trial events to a Phase; records worker crashes."""

    def __init__(self, phase: Phase, key_of: Callable[[dict], str], on_crash: Callable[[str, str], None] | None,
                 label_of: Callable[[dict, dict], str] | None = None):
        self.phase, self.key_of, self.on_crash, self.label_of = phase, key_of, on_crash, label_of

    def __reduce__(self):  # Tune may pickle the run config; this callback is driver-only
        return (_DriverOnlyCallback, ())

    def on_trial_start(self, iteration, trials, trial, **info):
        self.phase.started(self.key_of(trial.config))

    def on_trial_complete(self, iteration, trials, trial, **info):
        result = trial.last_result or {}
        label = self.label_of(trial.config, result) if self.label_of else None
        self.phase.finished(self.key_of(trial.config), result, label)

    def on_trial_error(self, iteration, trials, trial, **info):
        try:
            error = str(trial.get_error()) if hasattr(trial, "get_error") else "worker failed"
        except Exception:  # noqa: BLE001
            error = "the worker running this trial died"
        error = error.strip().splitlines()[-1] if error.strip() else "the worker running this trial died"
        key = self.key_of(trial.config)
        if self.on_crash:
            self.on_crash(key, error)
        label = self.label_of(trial.config, {}) if self.label_of else None
        self.phase.finished(key, {}, label, crash=error)


class _DriverOnlyCallback(tune.Callback):
    """What a pickled TuneProgress becomes elsewhere: nothing to report to."""


def tracker_callbacks(entries: tuple, experiment: str) -> list:
    """Ray Tune's own logger callbacks for `suite.run.trackers.tracker_entries` (the `mlflow` integration is
    imported only when asked for: MLflow is optional)."""
    callbacks = []
    for name, target in entries:
        if name == "tensorboard":
            callbacks.append(_tensorboard_callback(target))
        if name == "mlflow":
            from ray.air.integrations.mlflow import MLflowLoggerCallback

            callbacks.append(MLflowLoggerCallback(tracking_uri=target, experiment_name=experiment,
                                                  save_artifact=False))
    return callbacks


def _tensorboard_callback(root: str) -> tune.Callback:
    """Ray's TensorBoard logger, each trial's events under `root/<trial name>/` instead of its scratch folder."""
    from ray.tune.logger import TBXLoggerCallback

    class PersistentTBX(TBXLoggerCallback):
        def log_trial_start(self, trial):
            if trial in self._trial_writer:
                self._trial_writer[trial].close()
            folder = Path(root) / str(trial)
            folder.mkdir(parents=True, exist_ok=True)
            self._trial_writer[trial] = self._summary_writer_cls(str(folder), flush_secs=30)
            self._trial_result[trial] = {}

    return PersistentTBX()


def make_tuner(trainable, param_space: dict, *, spec: Spec, storage: str, name: str, callback: tune.Callback,
               max_concurrent: int | None, search_alg=None, num_samples: int = 1, metric: str | None = None,
               mode: str | None = None, trial_name: Callable[[Any], str]) -> tune.Tuner:
    """A Tuner with the spec's resources per trial, actors reused, no retries and no Tune logs of its own."""
    resources = {"cpu": spec.cpus_per_trial}
    if spec.gpus_per_trial:
        resources["gpu"] = spec.gpus_per_trial
    return tune.Tuner(
        tune.with_resources(trainable, resources),
        param_space=param_space,
        tune_config=tune.TuneConfig(
            search_alg=search_alg, num_samples=num_samples, metric=metric, mode=mode,
            max_concurrent_trials=max_concurrent, reuse_actors=True,
            trial_name_creator=trial_name, trial_dirname_creator=trial_name),
        run_config=tune.RunConfig(
            name=name, storage_path=storage, verbose=0,
            callbacks=[callback, *tracker_callbacks(spec.trackers, spec.name)],
            failure_config=tune.FailureConfig(max_failures=0, fail_fast=False)),
    )


__all__ = ["TuneProgress", "adaptive_trainable", "grid_trainable", "make_tuner", "search_trainable",
           "tracker_callbacks"]
