"""One trial, executed where it is scheduled: train it and write its result (or its failure) to the store.

No Ray here: the Ray backend calls `execute_trial` inside its workers, and any
other caller (tests, a serial driver) can call it the same way. The result is
written from inside the worker (atomic, rows file last), so a killed driver
loses no finished trial.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
import warnings
from pathlib import Path

from suite.config import TrialConfig
from suite.results.check import quarantine
from suite.results.files import probe_writable
from suite.results.store import stored_rows, trial_blockers, write_failure, write_trial
from suite.run.guard.driver_lock import lock_ticket
from suite.run.guard.trial_claim import ClaimBlocked, ClaimLost, TrialClaim, claim_for, claim_trial, lock_refusal
from suite.sweep.parsing import import_plugins
from suite.sweep.spec import Spec

# The dataset object each (dataset, data root) gave this process last: a trial
# reports whether it got the same object as the trial before it in this
# process, i.e. whether the per-process cache of `load_dataset` served it.
_DATA_SEEN: dict[tuple[str, str | None], object] = {}


def worker_job(spec: Spec, results: str, data: str | None) -> dict:
    """What every trial of a sweep needs besides its config (sent to the workers once)."""
    return {
        "results": results,
        "data": str(Path(data).expanduser().resolve()) if data else None,
        "cpus_per_trial": spec.cpus_per_trial,
        "gpus_per_trial": spec.gpus_per_trial,
        "plugins": list(spec.plugins),
        "lock": lock_ticket(results, spec.name),  # None where no driver lock is held (a test calling a worker)
    }


def final_row(rows: list[dict]) -> dict:
    """The row that stands for the trial: its "final" point, else its first row."""
    return next((r for r in rows if r.get("point") == "final"), rows[0])


def _load_data(dataset: str, data: str | None) -> tuple[float, bool]:
    """(seconds, whether this process loaded the data now rather than reusing what it had loaded)."""
    from suite.core.data.registry import load_dataset

    start = time.perf_counter()
    bundle = load_dataset(dataset, data)
    seconds = time.perf_counter() - start
    loaded = _DATA_SEEN.get((dataset, data)) is not bundle
    _DATA_SEEN[(dataset, data)] = bundle
    return seconds, loaded


def _reused(rows: list[dict], base: dict) -> dict:
    row = final_row(rows)
    return {**base, "status": "reused", "test_acc": float(row["test_acc"]),
            "compression_ratio": float(row["compression_ratio"]), "train_s": 0.0, "data_s": 0.0, "data_loaded": False}


def clear_the_way(root: str, cfg: TrialConfig) -> None:
    """Before training, so that a trained result is never lost at the write: the sweep's folder takes writes
    (StoreWriteError otherwise), and a non-file where this trial's result goes (a directory at its rows
    path ...) is moved aside, with a warning naming it. OSError when that cannot be done."""
    probe_writable(f"{str(root).rstrip('/')}/{cfg.sweep}")
    for moved in quarantine(str(root), trial_blockers(root, cfg.sweep, cfg.config_hash)):
        warnings.warn(f"set aside before training: {moved.describe(str(root))}", stacklevel=2)


def _not_trained(base: dict, start: float, error: str) -> dict:
    return {**base, "status": "failed", "error": error, "test_acc": -1.0, "train_s": time.perf_counter() - start,
            "data_s": 0.0, "data_loaded": False}


def _claim(cfg: TrialConfig, job: dict, base: dict, start: float) -> TrialClaim | dict:
    """The trial's claim, held (suite.run.guard.trial_claim), or the answer without training: found stored (also after
    waiting for another driver's worker that trains it), refused (this driver lost its lock), or failed."""
    root = job["results"]
    try:
        # Re-checked here, just before training, not only when the driver planned: a trial another driver (or
        # one stopped and resumed) stored meanwhile is answered from the store, never trained twice.
        stored = stored_rows(root, cfg.sweep, cfg.config_hash)
        if stored:
            return _reused(stored, base)
        refused = lock_refusal(root, job.get("lock"))
        if refused is not None:
            return _not_trained(base, start, refused)
        claim = claim_for(root, cfg.sweep, cfg.config_hash, job.get("lock"))
        stored = claim_trial(claim, lambda: stored_rows(root, cfg.sweep, cfg.config_hash))
        if stored:
            return _reused(stored, base)
    except ClaimBlocked as exc:
        return _not_trained(base, start, f"ClaimBlocked: {exc} (not trained)")
    except OSError as exc:  # StoreReadError, StoreWriteError
        return _not_trained(base, start, f"{type(exc).__name__}: {exc} (not trained)")
    try:
        clear_the_way(root, cfg)
    except OSError as exc:  # the folder takes no writes, or what stands in the way cannot be moved
        claim.release()
        return _not_trained(base, start, f"{type(exc).__name__}: {exc} (not trained)")
    except BaseException:  # a cancel (KeyboardInterrupt) or anything else: the claim is not left heartbeating
        claim.release()
        raise
    return claim


def execute_trial(cfg_dict: dict, job: dict, reuse_done: bool = False) -> dict:
    """Run one trial and store its result (or its failure); returns its metrics.

    Imports the spec's plugins, pins torch to the CPUs the trial holds, never
    raises for a failing trial. A trial already in the store when its turn comes
    is answered from it without training (status "reused"); `reuse_done` is kept
    for callers that ask for that explicitly (the lr search), it is always so now.
    A trial is trained only under its claim (`_claim`), so never by two drivers at once.
    """
    import torch

    from suite.results.checkpoints import CheckpointCache

    start = time.perf_counter()
    import_plugins(job.get("plugins", ()))
    from suite.train import run_trial  # after the plugins, which may wrap it (the tests count trainings so)

    threads = max(1, int(job.get("cpus_per_trial", 1)))
    torch.set_num_threads(threads)
    cfg = TrialConfig.from_dict(cfg_dict)
    root = job["results"]
    base = {"config_hash": cfg.config_hash, "pid": os.getpid(), "node": socket.gethostname(), "threads": threads,
            "started_at": time.time()}
    claim = _claim(cfg, job, base, start)
    if isinstance(claim, dict):
        return claim
    device = "cuda" if (job.get("gpus_per_trial") or 0) > 0 else "cpu"
    data_s, data_loaded = 0.0, False
    try:
        data_s, data_loaded = _load_data(cfg.dataset, job.get("data"))
        result = run_trial(cfg, data_root=job.get("data"), device=device, checkpoints=CheckpointCache(root),
                           progress=claim.check)  # stops at the next epoch if another process took the claim over
        write_trial(root, cfg.sweep, result)
    except ClaimLost as exc:  # the taker trains it: store nothing, record no failure
        return {**_not_trained(base, start, f"not finished: {exc}"), "data_s": data_s, "data_loaded": data_loaded}
    except Exception as exc:  # noqa: BLE001 - a failing trial is recorded, the sweep goes on
        error = f"{type(exc).__name__}: {exc}"
        try:
            write_failure(root, cfg.sweep, cfg.config_hash, cfg.to_dict(),
                          f"{error}\n\n{traceback.format_exc()}")
        except OSError as store_exc:  # the store itself fails: say so, never raise out of the worker
            error += f" (and the failure could not be recorded: {type(store_exc).__name__}: {store_exc})"
        return {**_not_trained(base, start, error), "data_s": data_s, "data_loaded": data_loaded}
    finally:
        claim.release()
    final = final_row(result.rows)
    return {**base, "status": final["status"], "test_acc": float(final["test_acc"]),
            "compression_ratio": float(final["compression_ratio"]), "n_rows": len(result.rows),
            "train_s": time.perf_counter() - start, "data_s": data_s, "data_loaded": data_loaded}


__all__ = ["execute_trial", "final_row", "worker_job"]
