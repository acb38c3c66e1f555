"""Ray Tune orchestration: the only module of `suite` that imports Ray.

`run_sweep(spec, options)` runs a validated sweep spec (`suite.sweep.spec`):

1. Learning rates written `auto` are chosen first (App. G.2: best test
   accuracy at small λ over [0.05, 1]) by Optuna's sampler inside Ray Tune
   (`OptunaSearch`), with a small trial budget. The choice is written to
   `<results>/<sweep>/lr_search/<key>.json` and the search's trials to the
   normal store under the sweep name `<sweep>/lr_search` (so they do not mix
   with the main grid in reports); a later run reuses both and searches nothing.
2. Every TrialConfig not already in the store (by config hash) becomes one Tune
   trial of a grid (`tune.grid_search` over config hashes; the configs travel
   to the workers once, via `tune.with_parameters`). Trials already done are
   removed *before* Ray starts; if nothing is left Ray never starts.
3. Each trial runs `suite.train.run_trial` in a Ray worker and writes its own
   result to the store (atomic, rows file last) from inside the worker, so a
   killed driver loses no finished trial; re-running finishes the sweep
   without retraining anything and without duplicates (one file per hash).
   A trial that raises is recorded with `store.write_failure` (error and
   traceback) and the others go on; a worker that dies outright is recorded
   by the driver. A diverged run is a result (status "diverged"), not a failure.

Resources: each trial holds `cpus_per_trial` CPUs and `gpus_per_trial`
(possibly fractional) GPUs; `torch.set_num_threads` is set to the CPUs held.

Data: `suite.core.data.load_dataset` caches per process. Tune runs a function
trainable inside an actor; with `reuse_actors=True` (all trials of a grid ask
for the same resources) the actor -- and its Python process with the loaded
dataset -- serves trial after trial, so each worker loads the data once. Each
trial reports its worker pid and data-load seconds (`data_s`) to show it.

Local Ray by default (`ray.init(address="local", num_cpus=...)`, no
dashboard, quiet logs); `address` joins an existing cluster ("auto",
"HOST:6379", "ray://HOST:10001"). An unreachable address fails fast with a
message naming it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

# Before Ray is imported: no Tune CSV/JSON/TensorBoard logs, our own Ctrl-C
# handling, no usage-stats reporting (machines may be offline).
for _key, _value in {"TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1", "TUNE_DISABLE_SIGINT_HANDLER": "1",
                     "RAY_USAGE_STATS_ENABLED": "0", "RAY_AIR_NEW_OUTPUT": "0"}.items():
    os.environ.setdefault(_key, _value)

import ray  # noqa: E402
from ray import tune  # noqa: E402
from rich.markup import escape  # noqa: E402

from suite.results import layout  # noqa: E402
from suite.config import TrialConfig  # noqa: E402
from suite.paths import DEFAULT_RESULTS  # noqa: E402
from suite.run.process_guard import interrupt_on_sigterm  # noqa: E402
from suite.results.store import (  # noqa: E402
    DamagedRecord, done_hashes, load_table, read_record, scan_table, write_bytes, write_failure, write_trial)
from suite.results.files import StoreWriteError, probe_writable  # noqa: E402
from suite.grid import cap_grid, logspace, round_sig  # noqa: E402
from suite.sweep.expansion import expand, lr_searches  # noqa: E402
from suite.sweep.parsing import import_plugins  # noqa: E402
from suite.sweep.spec import LRSearch, Spec  # noqa: E402
from suite.run.sweep_guard import guarded_store  # noqa: E402


class TuneSetupError(RuntimeError):
    """Ray could not be started or reached; the message says what to do."""


# --------------------------------------------------------------------------- options / outcome


@dataclass
class RunOptions:
    results: str = DEFAULT_RESULTS
    data: str | None = None
    address: str | None = None
    # Size of the local cluster (default: all cores); ignored with `address`.
    num_cpus: int | None = None
    num_gpus: int | None = None
    max_concurrent: int | None = None
    # Search each Table 1 / 2 cell (suite.run.adaptive) instead of running the whole grid.
    adaptive: bool = False


@dataclass
class TrialRecord:
    config_hash: str
    label: str
    status: str  # ok | diverged | failed | reused
    seconds: float = 0.0
    test_acc: float | None = None
    compression_ratio: float | None = None
    error: str | None = None
    metrics: dict = field(default_factory=dict)


@dataclass
class SweepOutcome:
    sweep: str
    results: str
    total: int = 0
    already_done: int = 0
    records: list[TrialRecord] = field(default_factory=list)
    search_records: list[TrialRecord] = field(default_factory=list)
    lrs: dict[str, dict] = field(default_factory=dict)  # key -> chosen lr record
    failed_searches: list[str] = field(default_factory=list)
    blocked: int = 0  # trials not run because their lr search failed
    interrupted: bool = False
    ray_started: bool = False
    ray_start_s: float = 0.0
    grid_wall_s: float = 0.0
    search_wall_s: float = 0.0
    wall_s: float = 0.0
    concurrency: int = 0
    adaptive: Any = None  # the suite.run.adaptive.AdaptivePlan of an adaptive run
    damaged: list = field(default_factory=list)  # store files moved aside before the run (store.Damage)
    error: str | None = None  # what stopped the sweep early (e.g. the store stopped taking writes)

    @property
    def failed(self) -> list[TrialRecord]:
        return [r for r in self.records if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return (not self.failed and not self.failed_searches and not self.interrupted and not self.blocked
                and not self.error)


# --------------------------------------------------------------------------- Ray set-up


def normalize_results(results: str | Path) -> str:
    """A URI stays as is; a local path becomes absolute (workers may run elsewhere). Creates nothing."""
    text = str(results)
    if "://" in text:
        return text.rstrip("/")
    return str(Path(text).expanduser().resolve())


def check_address(address: str, timeout: float = 5.0) -> None:
    """Fail fast (TuneSetupError) if `address` is not a reachable Ray cluster address."""
    if address in ("auto", "local"):
        return
    if address.startswith(("http://", "https://")):
        raise TuneSetupError(
            f"--address {address!r} looks like a dashboard / Jobs API address; `bench sweep --address` needs the "
            f"cluster (GCS) address, e.g. HOST:6379 or ray://HOST:10001. To submit to {address} use "
            f"`bench submit NAME --address {address}`.")
    hostport = address.split("://", 1)[1] if "://" in address else address
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise TuneSetupError(f"--address {address!r} is not HOST:PORT, ray://HOST:PORT or 'auto'")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise TuneSetupError(
            f"cannot reach a Ray cluster at {address!r} ({exc.strerror or exc}). Is it running "
            f"(`ray start --head` listens on port 6379)? Omit --address to run on a local Ray instance.") from None


def _quiet_ray_logging() -> None:
    for name in ("ray", "ray.tune", "ray.train", "ray._private", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def start_ray(options: RunOptions) -> float:
    """Connect to / start Ray; returns the seconds it took (0 if already connected)."""
    if ray.is_initialized():
        return 0.0
    _quiet_ray_logging()
    start = time.perf_counter()
    common = {"logging_level": logging.ERROR, "log_to_driver": False, "include_dashboard": False}
    if options.address:
        check_address(options.address)
        try:
            ray.init(address=options.address, logging_level=logging.ERROR, log_to_driver=False)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is reported the same way
            raise TuneSetupError(f"cannot connect to the Ray cluster at {options.address!r}: {exc}") from None
    else:
        num_cpus = options.num_cpus or os.cpu_count() or 1
        ray.init(address="local", num_cpus=num_cpus, num_gpus=options.num_gpus, **common)
    _quiet_ray_logging()
    return time.perf_counter() - start


def cluster_slots(cpus_per_trial: float, gpus_per_trial: float) -> int:
    """How many trials the connected cluster runs at once."""
    resources = ray.cluster_resources()
    slots = math.floor(resources.get("CPU", 0) / cpus_per_trial + 1e-9)
    if gpus_per_trial > 0:
        slots = min(slots, math.floor(resources.get("GPU", 0) / gpus_per_trial + 1e-9))
    return max(slots, 0)


# --------------------------------------------------------------------------- inside the worker


def _job(spec: Spec, options: RunOptions, results: str) -> dict:
    return {
        "results": results,
        "data": str(Path(options.data).expanduser().resolve()) if options.data else None,
        "cpus_per_trial": spec.cpus_per_trial,
        "gpus_per_trial": spec.gpus_per_trial,
        "plugins": list(spec.plugins),
    }


def _final_row(rows: list[dict]) -> dict:
    return next((r for r in rows if r.get("point") == "final"), rows[0])


def execute_trial(cfg_dict: dict, job: dict, reuse_done: bool = False) -> dict:
    """Run one trial and store its result (or its failure); returns metrics for Tune.

    Runs in a Ray worker (or anywhere): imports the spec's plugins, pins torch
    to the CPUs the trial holds, never raises for a failing trial.
    """
    import torch

    from suite.results.checkpoints import CheckpointCache
    from suite.core.data import load_dataset
    from suite.train import run_trial

    start = time.perf_counter()
    started_at = time.time()
    import_plugins(job.get("plugins", ()))
    threads = max(1, int(job.get("cpus_per_trial", 1)))
    torch.set_num_threads(threads)
    cfg = TrialConfig.from_dict(cfg_dict)
    root = job["results"]
    base = {"config_hash": cfg.config_hash, "pid": os.getpid(), "node": socket.gethostname(), "threads": threads,
            "started_at": started_at}
    if reuse_done and cfg.config_hash in done_hashes(root, cfg.sweep):
        rows = load_table(root, cfg.sweep)
        mine = rows[rows.config_hash == cfg.config_hash]
        row = (mine[mine.point == "final"] if (mine.point == "final").any() else mine).iloc[0]
        return {**base, "status": "reused", "test_acc": float(row.test_acc),
                "compression_ratio": float(row.compression_ratio), "train_s": 0.0, "data_s": 0.0}
    device = "cuda" if job.get("gpus_per_trial", 0) > 0 else "cpu"
    data_s = 0.0
    try:
        # A store that stopped taking writes fails the trial before it trains, not after.
        probe_writable(f"{str(root).rstrip('/')}/{cfg.sweep}")
    except StoreWriteError as exc:
        return {**base, "status": "failed", "error": f"StoreWriteError: {exc} (not trained)", "test_acc": -1.0,
                "train_s": time.perf_counter() - start, "data_s": 0.0}
    try:
        t = time.perf_counter()
        load_dataset(cfg.dataset, job.get("data"))  # cached per process: ~0 s after the first trial
        data_s = time.perf_counter() - t
        result = run_trial(cfg, data_root=job.get("data"), device=device, checkpoints=CheckpointCache(root))
        write_trial(root, cfg.sweep, result)
    except Exception as exc:  # noqa: BLE001 - a failing trial is recorded, the sweep goes on
        error = f"{type(exc).__name__}: {exc}"
        try:
            write_failure(root, cfg.sweep, cfg.config_hash, cfg.to_dict(),
                          f"{error}\n\n{traceback.format_exc()}")
        except OSError as store_exc:  # the store itself fails: say so, never raise out of the worker
            error += f" (and the failure could not be recorded: {type(store_exc).__name__}: {store_exc})"
        return {**base, "status": "failed", "error": error, "test_acc": -1.0,
                "train_s": time.perf_counter() - start, "data_s": data_s}
    final = _final_row(result.rows)
    return {**base, "status": final["status"], "test_acc": float(final["test_acc"]),
            "compression_ratio": float(final["compression_ratio"]), "n_rows": len(result.rows),
            "train_s": time.perf_counter() - start, "data_s": data_s}


def _grid_trainable(params: dict, configs: dict, job: dict) -> None:
    tune.report(execute_trial(configs[params["config_hash"]], job))


def _search_trainable(params: dict, base: dict, job: dict, space: str) -> None:
    lr = float(params["lr"]) if space == "grid" else round_sig(float(params["lr"]), 3)
    tune.report({**execute_trial({**base, "lr": lr}, job, reuse_done=True), "lr": lr})


# --------------------------------------------------------------------------- progress


def describe(cfg: dict) -> str:
    parts = [cfg["method"]]
    if cfg.get("depth") is not None:
        parts.append(f"D={cfg['depth']}")
    if cfg.get("lam") is not None:
        parts.append(f"λ={cfg['lam']:.3g}")
    parts.append(f"lr={cfg['lr']:.3g}")
    if cfg.get("compressions"):
        cs = list(cfg["compressions"])
        parts.append(f"CR={cs[0]:.4g}" if len(cs) == 1 else f"CR={cs[0]:.3g}..{cs[-1]:.3g} ({len(cs)})")
    parts.append(f"seed={cfg['seed']}")
    return " ".join(parts)


def _fmt_time(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


class Phase:
    """Counts and a live line for one Tune run (the grid or one lr search)."""

    def __init__(self, title: str, total: int, configs: dict[str, dict], console: Any | None):
        self.title, self.total, self.configs, self.console = title, total, configs, console
        self.done = self.failed = self.running = 0
        self.records: list[TrialRecord] = []
        self.first_start: float | None = None
        self._progress = None
        self._task = None

    def __enter__(self) -> "Phase":
        if self.console is not None and self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[state]}"), TimeElapsedColumn(), TextColumn("left {task.fields[eta]}"),
                console=self.console, transient=True)
            self._task = self._progress.add_task(self.title, total=self.total, state=self.state(), eta="?")
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def state(self) -> str:
        return f"running {self.running} · failed {self.failed}"

    def eta(self) -> float | None:
        finished = self.done + self.failed
        if not finished or self.first_start is None:
            return None
        return (time.perf_counter() - self.first_start) * (self.total - finished) / finished

    def _refresh(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done + self.failed, state=self.state(),
                                  eta=_fmt_time(self.eta()))

    def started(self, key: str) -> None:
        if self.first_start is None:
            self.first_start = time.perf_counter()
        self.running += 1
        self._refresh()

    def finished(self, key: str, metrics: dict | None, label: str | None = None, crash: str | None = None) -> None:
        self.running = max(0, self.running - 1)
        metrics = metrics or {}
        status = "failed" if crash else metrics.get("status", "failed")
        cfg = self.configs.get(key, {})
        label = label or (describe(cfg) if cfg else key)
        record = TrialRecord(key, label, status, float(metrics.get("train_s", 0.0)), metrics.get("test_acc"),
                             metrics.get("compression_ratio"), crash or metrics.get("error"), metrics)
        self.records.append(record)
        if status == "failed":
            self.failed += 1
        else:
            self.done += 1
        self._refresh()
        if self.console is None:
            return
        n = self.done + self.failed
        head = escape(f"[{n}/{self.total}] {label}")
        if status == "failed":
            line = f"[red]✗[/] {head}: [red]failed[/] {escape(str(record.error))}"
        else:
            acc = f"acc {100 * record.test_acc:.2f}%" if record.test_acc is not None else ""
            cr = f" CR {record.compression_ratio:.3g}" if record.compression_ratio else ""
            tag = {"diverged": " [yellow]diverged[/]", "reused": " (from store)"}.get(status, "")
            line = f"[green]✓[/] {head}: {acc}{cr}{tag} · {record.seconds:.1f}s"
        tail = f"  ({self.state()} · left {_fmt_time(self.eta())})" if n < self.total else ""
        self.console.print(line + tail, highlight=False, soft_wrap=True)


class _TuneProgress(tune.Callback):
    """Driver-side: feeds Tune's trial events to a Phase; records worker crashes."""

    def __init__(self, phase: Phase, key_of: Callable[[dict], str], on_crash: Callable[[str, str], None] | None,
                 label_of: Callable[[dict, dict], str] | None = None):
        self.phase, self.key_of, self.on_crash, self.label_of = phase, key_of, on_crash, label_of

    def __reduce__(self):  # Tune may pickle the run config; this callback is driver-only
        return (_NullCallback, ())

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


class _NullCallback(tune.Callback):
    pass


def _tuner(trainable, param_space: dict, *, spec: Spec, storage: str, name: str, callback: tune.Callback,
           max_concurrent: int | None, search_alg=None, num_samples: int = 1, metric: str | None = None,
           mode: str | None = None, trial_name: Callable[[Any], str]) -> tune.Tuner:
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
            name=name, storage_path=storage, verbose=0, callbacks=[callback],
            failure_config=tune.FailureConfig(max_failures=0, fail_fast=False)),
    )


# --------------------------------------------------------------------------- lr search


def lr_search_path(spec: Spec, key: str) -> str:
    return layout.lr_search_path(spec.name, key)


def load_chosen_lrs(spec: Spec, results: str, damaged: list | None = None) -> dict[str, dict]:
    """The lr searches already finished for this spec: key -> record (with "lr").

    A record that does not read is left out (so it is searched again) and, when
    `damaged` is a list, appended to it; the driver has moved such files aside.
    """
    out = {}
    for search in lr_searches(spec):
        try:
            choice = read_record(results, lr_search_path(spec, search.key))
        except DamagedRecord as exc:
            if damaged is not None:
                damaged.append(exc.damage)
            continue
        if choice is None:
            continue
        # A larger budget than the stored search had extends it (its trials are reused).
        if choice.get("search", {}).get("budget", 0) >= search.settings.budget:
            out[search.key] = choice
    return out


def _search_trials(search: LRSearch, results: str) -> list[dict]:
    """This search's trials already in the store: [{lr, test_acc, status, config_hash}]."""
    sweep = dict(search.base)["sweep"]
    rows = load_table(results, sweep)
    if rows.empty:
        return []
    want = {k: v for k, v in search.config(1.0).to_dict().items() if k not in ("lr", "sweep")}
    want = json.loads(json.dumps(want, sort_keys=True, default=list))
    out = []
    for row in rows[rows.point == "final"].itertuples():
        cfg = json.loads(row.config_json)
        lr = cfg.pop("lr")
        cfg.pop("sweep", None)
        if cfg == want:
            out.append({"lr": float(lr), "test_acc": float(row.test_acc), "status": row.status,
                        "config_hash": row.config_hash})
    return sorted(out, key=lambda r: r["lr"])


import optuna  # noqa: E402
from optuna.distributions import CategoricalDistribution  # noqa: E402


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


def _usable_search_trials(search: LRSearch, results: str, grid: list[float]) -> list[dict]:
    settings = search.settings
    return [t for t in _search_trials(search, results)
            if (t["lr"] in grid if grid else settings.low <= t["lr"] <= settings.high)]


def run_lr_search(search: LRSearch, spec: Spec, options: RunOptions, results: str, storage: str,
                  console: Any | None) -> tuple[dict | None, list[TrialRecord]]:
    """Choose the lr of one `auto` search with Optuna inside Tune; store and return the choice."""
    from ray.tune.search.optuna import OptunaSearch

    settings = search.settings
    grid = list(settings.values()) if settings.space == "grid" else []
    space = {"lr": tune.choice(grid) if grid else tune.loguniform(settings.low, settings.high)}
    base = {k: v for k, v in search.base}
    job = _job(spec, options, results)
    title = f"lr search {search.label}"
    n_init = max(1, math.ceil(settings.budget / 2))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    records: list[TrialRecord] = []
    # The budget counts distinct learning rates trained. A round asks Optuna for
    # what is missing; a suggestion already in the store is answered from it
    # (so a repeat costs no training) and another round fills the gap (at most 3).
    budget = min(settings.budget, len(grid)) if grid else settings.budget
    for round_ in range(3):
        previous = _usable_search_trials(search, results, grid)
        remaining = budget - len(previous)
        if remaining <= 0:
            break
        if previous:  # resume: the trials so far inform the sampler
            points, rewards = [{"lr": p["lr"]} for p in previous], [p["test_acc"] for p in previous]
        else:  # start: distinct points spread over the range, then TPE
            spread = cap_grid(grid, min(n_init, remaining)) if grid else \
                [round_sig(v, 3) for v in logspace(settings.low, settings.high, min(n_init, remaining))]
            points, rewards = [{"lr": v} for v in spread], None
        sampler = DistinctTPESampler(seed=settings.sampler_seed + round_, n_startup_trials=n_init, constant_liar=True)
        searcher = OptunaSearch(space=space, metric="test_acc", mode="max", sampler=sampler,
                                points_to_evaluate=points, evaluated_rewards=rewards)
        if console is not None:
            console.print(f"[bold]{title}[/]: {remaining} trial(s) by Optuna (TPE) over {settings.space} "
                          f"[{settings.low:g}, {settings.high:g}] at λ={settings.lam:g}, seed {base['seed']}"
                          + (f" ({len(previous)} done before)" if previous else ""), highlight=False, soft_wrap=True)
        with Phase(title, remaining, {}, console) as phase:
            callback = _TuneProgress(
                phase, key_of=lambda c: f"lr={c.get('lr')}", on_crash=None,
                label_of=lambda c, r: f"{search.label} lr={float(r.get('lr', c.get('lr', 0))):.3g}")
            tuner = _tuner(
                tune.with_parameters(_search_trainable, base=base, job=job, space=settings.space), {},
                spec=spec, storage=storage, name=f"lr-{search.key}-{round_}", callback=callback,
                max_concurrent=options.max_concurrent, search_alg=searcher, num_samples=remaining,
                metric="test_acc", mode="max", trial_name=lambda t: f"lr_{t.trial_id}")
            tuner.fit()
        records.extend(phase.records)
    trials = _usable_search_trials(search, results, grid)
    usable = [t for t in trials if t["status"] == "ok"] or trials
    if not usable:
        return None, records
    best = max(usable, key=lambda t: (t["test_acc"], -t["lr"]))
    choice = {
        "key": search.key, "method": search.method, "depth": search.depth, "lr": best["lr"],
        "test_acc": best["test_acc"], "config_hash": best["config_hash"], "lam": settings.lam,
        "seed": dict(search.base)["seed"], "epochs": dict(search.base).get("epochs"),
        "search": {**settings.describe(), "budget": settings.budget, "sampler": "optuna TPE",
                   "sampler_seed": settings.sampler_seed},
        "trials": trials, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_bytes(results, lr_search_path(spec, search.key), json.dumps(choice, indent=1).encode())
    return choice, records


# --------------------------------------------------------------------------- the sweep


def adopt_search_trials(spec: Spec, results: str, trials: list[TrialConfig], done: set[str]) -> set[str]:
    """Copy lr-search trials that are also grid trials (λ, seed and lr equal) into the sweep's store.

    The search's best trial at λ = 1e-6 is exactly the grid's trial at that λ for
    the search seed; it is not trained twice. Returns the updated done hashes.
    """
    from suite.results.store import TrialResult

    if not lr_searches(spec):
        return done
    search_sweep = f"{spec.name}/lr_search"
    # Only files that pass the store's check are copied (a damaged one is not a result).
    checked = {table: scan_table(results, search_sweep, table)[0] for table in ("rows", "layers", "history")}
    done = set(done)
    for cfg in trials:
        if cfg.config_hash in done or cfg.config_hash not in checked["rows"]:
            continue
        tables = {table: (found[cfg.config_hash].to_pylist() if cfg.config_hash in found else [])
                  for table, found in checked.items()}
        for row in tables["rows"]:
            row["sweep"] = spec.name
            row["config_json"] = json.dumps(cfg.to_dict(), sort_keys=True, default=list)
        write_trial(results, spec.name, TrialResult(tables["rows"], tables["layers"], tables["history"]))
        done.add(cfg.config_hash)
    return done


def plan(spec: Spec, results: str) -> tuple[list[TrialConfig] | None, set[str], dict[str, dict]]:
    """(trials or None if an lr search is pending, done hashes, chosen lrs) -- without Ray."""
    chosen = load_chosen_lrs(spec, results)
    pending = [s for s in lr_searches(spec) if s.key not in chosen]
    done = done_hashes(results, spec.name)
    if pending:
        return None, done, chosen
    trials = expand(spec, {k: v["lr"] for k, v in chosen.items()})
    return trials, adopt_search_trials(spec, results, trials, done), chosen


def run_sweep(spec: Spec, options: RunOptions | None = None, console: Any | None = None) -> SweepOutcome:
    """Run every trial of `spec` not yet in the store (see the module docstring).

    The store is probed, locked for this driver and cleared of damaged files
    first (`suite.run.sweep_guard`); a store that cannot be written, or another
    driver on it, raises TuneSetupError / StoreBusy before anything trains.
    """
    options = options or RunOptions()
    results = normalize_results(options.results)
    outcome = SweepOutcome(sweep=spec.name, results=results)
    wall = time.perf_counter()
    try:
        with guarded_store(results, spec.name, console) as (storage, damaged):
            outcome.damaged = damaged
            _run_guarded(spec, options, results, storage, console, outcome)
    except StoreWriteError as exc:
        raise TuneSetupError(str(exc)) from None
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before Ray started
        outcome.interrupted = True
    except OSError as exc:  # the store failed under the driver mid-sweep: stop with a summary
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        outcome.wall_s = time.perf_counter() - wall
    return outcome


def _run_guarded(spec: Spec, options: RunOptions, results: str, storage: str, console: Any | None,
                 outcome: SweepOutcome) -> None:
    adaptive = options.adaptive or spec.adaptive is not None  # the spec key asks for it too
    trials, done, chosen = plan(spec, results)
    outcome.lrs = dict(chosen)
    if trials is not None:
        outcome.total = len(trials)
        outcome.already_done = sum(cfg.config_hash in done for cfg in trials)
        if outcome.already_done == outcome.total and not adaptive:
            return  # nothing to do: Ray is never started
    started_here = not ray.is_initialized()
    try:
        outcome.ray_start_s = start_ray(options)
        interrupt_on_sigterm()  # ray.init installed its own SIGTERM handler (sys.exit)
        outcome.ray_started = True
        outcome.concurrency = cluster_slots(spec.cpus_per_trial, spec.gpus_per_trial)
        if outcome.concurrency < 1:
            have = ray.cluster_resources()
            raise TuneSetupError(
                f"the Ray cluster has {have.get('CPU', 0):g} CPU(s) and {have.get('GPU', 0):g} GPU(s); one trial "
                f"asks for {spec.cpus_per_trial:g} CPU(s) and {spec.gpus_per_trial:g} GPU(s). Lower "
                f"--cpus-per-trial / --gpus-per-trial (or `resources:` in {spec.path})")
        if options.max_concurrent:
            outcome.concurrency = min(outcome.concurrency, options.max_concurrent)
        if trials is None:
            t = time.perf_counter()
            for search in lr_searches(spec):
                if search.key in chosen:
                    continue
                choice, records = run_lr_search(search, spec, options, results, storage, console)
                outcome.search_records.extend(records)
                if choice is None:
                    outcome.failed_searches.append(search.key)
                    continue
                chosen[search.key] = choice
                outcome.lrs[search.key] = choice
                if console is not None:
                    console.print(f"[bold]lr search {search.label}[/]: chose lr {choice['lr']:g} "
                                  f"(test acc {100 * choice['test_acc']:.2f}% at λ={choice['lam']:g}; "
                                  f"{len(choice['trials'])} trial(s))", highlight=False, soft_wrap=True)
            outcome.search_wall_s = time.perf_counter() - t
            lrs = {k: v["lr"] for k, v in chosen.items()}
            trials = expand(spec, lrs, skip_unresolved=True)
            outcome.blocked = len(expand(spec, placeholder_lr=True)) - len(trials)
            done = adopt_search_trials(spec, results, trials, done_hashes(results, spec.name))
            outcome.total = len(trials)
            outcome.already_done = sum(cfg.config_hash in done for cfg in trials)
        todo = [cfg for cfg in trials if cfg.config_hash not in done]
        if adaptive:
            _run_adaptive(trials, spec, options, results, storage, console, outcome)
        elif todo:
            _run_grid(todo, spec, options, results, storage, console, outcome)
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        if started_here and ray.is_initialized():
            ray.shutdown()


def _run_grid(todo: list[TrialConfig], spec: Spec, options: RunOptions, results: str, storage: str,
              console: Any | None, outcome: SweepOutcome) -> None:
    configs = {cfg.config_hash: cfg.to_dict() for cfg in todo}
    job = _job(spec, options, results)

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
        callback = _TuneProgress(phase, key_of=lambda c: c["config_hash"], on_crash=on_crash)
        tuner = _tuner(
            tune.with_parameters(_grid_trainable, configs=configs, job=job),
            {"config_hash": tune.grid_search(list(configs))},
            spec=spec, storage=storage, name=f"grid-{spec.name}", callback=callback,
            max_concurrent=options.max_concurrent, trial_name=lambda t: t.config["config_hash"])
        try:
            tuner.fit()
        finally:
            outcome.records.extend(phase.records)
            outcome.grid_wall_s = time.perf_counter() - start


# --------------------------------------------------------------------------- adaptive search


from ray.tune.search import Searcher  # noqa: E402


class AdaptiveSearcher(Searcher):
    """Thin adapter: hands Tune what `suite.run.adaptive.AdaptivePlan` asks for (every seed of a candidate
    at once, all cells side by side) and feeds each finished trial's stored rows back to it."""

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
        from suite.run.adaptive_results import cell_line

        self.queue.extend(self.plan.advance(self.lookup))
        for i in range(len(self.plan.cells) if self.console is not None else 0):
            line = cell_line(self.plan, i)
            if self.lines.get(i) != line:  # per search: its bracket and trials spent, when they change
                self.lines[i] = line
                self.console.print(f"[cyan]search[/] {escape(line)}", highlight=False, soft_wrap=True)

    def suggest(self, trial_id: str):
        if not self.queue:
            self.advance()
        if not self.queue:
            return Searcher.FINISHED if self.plan.finished else None
        cfg = self.queue.pop(0)
        self.running[trial_id] = cfg
        self.configs[cfg.config_hash] = cfg.to_dict()
        return {"config_hash": cfg.config_hash, "cfg": cfg.to_dict()}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        from suite.run.adaptive_results import trial_rows

        cfg = self.running.pop(trial_id, None)
        if cfg is not None:
            self.plan.observe(cfg, None if error else trial_rows(self.results, self.sweep, cfg.config_hash))
            self.advance()


def _adaptive_trainable(params: dict, job: dict) -> None:
    tune.report(execute_trial(params["cfg"], job))


def _run_adaptive(trials: list[TrialConfig], spec: Spec, options: RunOptions, results: str, storage: str,
                  console: Any | None, outcome: SweepOutcome) -> None:
    from suite.run.adaptive import AdaptivePlan
    from suite.run.adaptive_results import budget_bound, store_lookup
    from suite.sweep.adaptive_spec import AdaptiveSettings

    plan = outcome.adaptive = AdaptivePlan(trials, spec.adaptive or AdaptiveSettings())
    searcher = AdaptiveSearcher(plan, store_lookup(results, spec.name), results, spec.name, console)
    searcher.advance()  # resume: everything the store answers is fed in before anything trains
    start = time.perf_counter()
    if searcher.queue:
        bound = budget_bound(plan)
        with Phase(f"adaptive {spec.name} (at most {bound})", bound, {}, console) as phase:
            callback = _TuneProgress(
                phase, key_of=lambda c: c["config_hash"], label_of=lambda c, r: describe(c["cfg"]),
                on_crash=lambda key, error: write_failure(results, spec.name, key, searcher.configs.get(key, {}),
                                                          f"{error}\n\n(recorded by the driver)"))
            tuner = _tuner(tune.with_parameters(_adaptive_trainable, job=_job(spec, options, results)), {},
                           spec=spec, storage=storage, name=f"adaptive-{spec.name}", callback=callback,
                           max_concurrent=options.max_concurrent, search_alg=searcher, num_samples=-1,
                           trial_name=lambda t: f"a_{t.trial_id}")
            try:
                tuner.fit()
            finally:
                outcome.records.extend(phase.records)
    outcome.grid_wall_s = time.perf_counter() - start
    outcome.total, outcome.already_done = len(plan.used | plan.pending), len(plan.reused)


__all__ = [
    "AdaptiveSearcher", "RunOptions", "SweepOutcome", "TrialRecord", "TuneSetupError", "check_address", "cluster_slots",
    "execute_trial", "load_chosen_lrs", "normalize_results", "plan", "run_lr_search", "run_sweep", "start_ray",
]
