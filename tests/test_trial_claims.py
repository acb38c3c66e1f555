"""Issue 28: no trial trained twice. Whoever trains a trial holds its claim (suite/run/guard/trial_claim.py); another
process waits for a live holder and answers the trial from the store, takes a gone holder's claim over on the
driver lock's rules (so a crashed driver's claims never block), and a worker whose driver lost its lock trains
nothing. The stop/continue fault test of a whole sweep is tests/test_lock_outlived.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from suite.config import TrialConfig
from suite.results.store import stored_rows, write_trial
from suite.run.guard.trial_claim import ClaimBlocked, ClaimLost, TrialClaim, claim_trial, lock_refusal
from suite.run.worker import execute_trial

HOST = socket.gethostname()
CFG = TrialConfig(model="lenet300", dataset="synthetic", method="dense", epochs=1, sweep="s")


def claim_file(root: Path, config_hash: str = "abc") -> Path:
    return root / "s" / "claims" / f"{config_hash}.json"


def put_claim(root: Path, config_hash: str = "abc", **holder) -> Path:
    path = claim_file(root, config_hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": HOST, "pid": os.getpid(), "token": "other", "started_at": time.time(),
                                "heartbeat_at": time.time(), **holder}))
    return path


def dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)


def test_a_claim_is_exclusive_and_released_only_by_its_holder(tmp_path):
    first, second = TrialClaim(str(tmp_path), "s", "abc"), TrialClaim(str(tmp_path), "s", "abc")
    assert first.try_take() is None and first.held
    holder = second.try_take()
    assert holder["token"] == first.token and holder["pid"] == os.getpid()
    second.release()  # holds nothing: deletes nothing
    assert claim_file(tmp_path).exists()
    first.release()
    assert not claim_file(tmp_path).exists()
    assert second.try_take() is None
    second.release()
    assert [p.name for p in claim_file(tmp_path).parent.iterdir()] == []  # no private copy left behind


@pytest.mark.parametrize("holder, why", [
    ({"pid": "dead"}, "no longer runs"),
    ({"host": "elsewhere", "pid": 12, "heartbeat_at": time.time() - 3600}, "no heartbeat from elsewhere"),
    ({"heartbeat_at": float("nan")}, "not whole"),
    ({"started_at": time.time() - 86400}, "is another process now"),
])
def test_a_gone_holders_claim_is_taken_over_naming_why(tmp_path, holder, why):
    if holder.get("pid") == "dead":
        holder = {**holder, "pid": dead_pid()}
    put_claim(tmp_path, **holder)
    claim = TrialClaim(str(tmp_path), "s", "abc")
    assert claim.try_take() is None, "a gone holder's claim must not block"
    assert why in claim.note and "took over the claim" in claim.note
    assert json.loads(claim_file(tmp_path).read_text())["token"] == claim.token
    claim.release()


def test_a_live_holder_on_another_host_holds_and_a_future_heartbeat_names_the_file(tmp_path):
    put_claim(tmp_path, host="elsewhere", pid=12)
    assert TrialClaim(str(tmp_path), "s", "abc").try_take()["host"] == "elsewhere"
    path = put_claim(tmp_path, host="elsewhere", pid=12, heartbeat_at=time.time() + 3600)
    with pytest.raises(ClaimBlocked, match=rf"in the future.*delete {path}"):
        TrialClaim(str(tmp_path), "s", "abc").try_take()


def test_a_holder_whose_claim_was_taken_over_stops_and_does_not_delete_the_new_one(tmp_path):
    claim = TrialClaim(str(tmp_path), "s", "abc", beat_s=0.05)
    assert claim.try_take() is None
    put_claim(tmp_path, token="taker", pid=4242)  # it was stopped past the staleness; another took the claim
    deadline = time.monotonic() + 10
    while claim.lost is None and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(ClaimLost, match="was taken over: pid 4242 on host .* trains it now"):
        claim.check(1, 5, {})
    claim.release()
    assert json.loads(claim_file(tmp_path).read_text())["token"] == "taker"


def test_waiting_for_a_live_holder_ends_with_its_stored_result(tmp_path):
    holder = TrialClaim(str(tmp_path), "s", "abc")
    assert holder.try_take() is None
    stored: list = []
    heard: list[str] = []

    def finish() -> None:
        time.sleep(1.0)
        stored.append("rows")
        holder.release()

    threading.Thread(target=finish).start()
    waiter = TrialClaim(str(tmp_path), "s", "abc")
    assert claim_trial(waiter, lambda: list(stored), say=heard.append, poll_s=0.1) == ["rows"]
    assert not waiter.held and len(heard) == 1 and "waiting: trial abc of sweep 's' is being trained by pid" in heard[0]


def test_a_worker_waits_for_the_trial_another_worker_trains_and_reuses_its_result(tmp_path):
    from suite.train import run_trial

    result = run_trial(CFG)  # what the other driver's worker is training
    other = TrialClaim(str(tmp_path), "s", CFG.config_hash)
    assert other.try_take() is None

    def other_finishes() -> None:
        time.sleep(2.0)
        write_trial(tmp_path, "s", result)
        other.release()

    threading.Thread(target=other_finishes).start()
    out = execute_trial(CFG.to_dict(), {"results": str(tmp_path), "cpus_per_trial": 1})
    assert out["status"] == "reused", out  # without the claim it would train the trial a second time
    assert stored_rows(tmp_path, "s", CFG.config_hash)[0]["created_at"] == result.rows[0]["created_at"]
    assert not claim_file(tmp_path, CFG.config_hash).exists()


def test_a_worker_of_a_driver_that_lost_its_lock_trains_nothing(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "driver.json").write_text(json.dumps({"host": HOST, "pid": 4242, "token": "new"}))
    ticket = {"sweep": "s", "token": "old", "stale_after_s": 300, "beat_s": 30}
    assert "pid 4242 on host" in lock_refusal(str(tmp_path), ticket)
    assert lock_refusal(str(tmp_path), {**ticket, "token": "new"}) is None
    out = execute_trial(CFG.to_dict(), {"results": str(tmp_path), "cpus_per_trial": 1, "lock": ticket})
    assert out["status"] == "failed" and "no longer holds the lock of sweep 's'" in out["error"], out
    assert out["train_s"] < 5
    assert not (tmp_path / "s" / "rows").exists() and not (tmp_path / "s" / "failed").exists()


def test_a_worker_whose_claim_is_taken_over_mid_training_stores_nothing(tmp_path):
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="dense", epochs=200, sweep="s")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "driver.json").write_text(json.dumps({"host": HOST, "pid": os.getpid(), "token": "d"}))
    ticket = {"sweep": "s", "token": "d", "stale_after_s": 300, "beat_s": 0.05}
    path = claim_file(tmp_path, cfg.config_hash)

    def take_over() -> None:  # as a driver would that judged this worker gone (a suspended machine)
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)
        put_claim(tmp_path, cfg.config_hash, token="taker", pid=4242)

    threading.Thread(target=take_over).start()
    start = time.monotonic()
    out = execute_trial(cfg.to_dict(), {"results": str(tmp_path), "cpus_per_trial": 1, "lock": ticket})
    assert out["status"] == "failed" and "not finished" in out["error"] and "was taken over" in out["error"], out
    assert time.monotonic() - start < 120  # stopped long before 200 epochs
    assert not (tmp_path / "s" / "rows").exists() and not (tmp_path / "s" / "failed").exists()
    assert json.loads(path.read_text())["token"] == "taker"  # the taker's claim stands


def test_bench_run_waits_for_a_trial_in_flight_elsewhere_and_trains_it_not_again(tmp_path):
    """`bench run --sweep` honours a claim: the trial a sweep's worker is training is waited for, then read."""
    import dataclasses

    from bench_subprocess import BENCH, ENV
    from suite.core.data.registry import dataset_identity
    from suite.train import run_trial

    cfg = dataclasses.replace(CFG, data_fingerprint=dataset_identity("synthetic", None).fingerprint)
    result = run_trial(cfg)
    holder = TrialClaim(str(tmp_path), "s", cfg.config_hash)
    assert holder.try_take() is None
    proc = subprocess.Popen([*BENCH, "run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dense",
                             "--epochs", "1", "--sweep", "s", "--results", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    heard: list[str] = []
    reader = threading.Thread(target=lambda: heard.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 200
        while not any("waiting:" in line for line in heard):
            assert proc.poll() is None and time.monotonic() < deadline, heard
            time.sleep(0.1)
        write_trial(tmp_path, "s", result)
        holder.release()
        out = proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    assert proc.returncode == 0, out + "".join(heard)
    assert "already in the store" in out and "nothing trained" in out
    assert f"is being trained by pid {os.getpid()}" in "".join(heard) and "epoch" not in "".join(heard)
    assert stored_rows(tmp_path, "s", cfg.config_hash)[0]["created_at"] == result.rows[0]["created_at"]


def test_a_sweeps_workers_are_told_the_lock_their_driver_holds(tmp_path):
    from types import SimpleNamespace

    from suite.run.guard.driver_lock import DriverLock
    from suite.run.worker import worker_job

    spec = SimpleNamespace(name="s", cpus_per_trial=1, gpus_per_trial=0, plugins=())
    with DriverLock(str(tmp_path), "s", stale_after_s=7, beat_s=1) as lock:
        ticket = worker_job(spec, str(tmp_path), None)["lock"]
        assert ticket == {"sweep": "s", "token": lock.token, "stale_after_s": 7, "beat_s": 1}
        assert lock_refusal(str(tmp_path), ticket) is None
    assert worker_job(spec, str(tmp_path), None)["lock"] is None  # released: no lock to tell of
    assert lock_refusal(str(tmp_path), ticket) is None  # gone is no proof of another driver (a failing store)


def test_a_non_file_at_a_claims_path_is_named_not_waited_for(tmp_path):
    claim_file(tmp_path, CFG.config_hash).mkdir(parents=True)
    with pytest.raises(ClaimBlocked, match="is not a file; delete it"):
        TrialClaim(str(tmp_path), "s", CFG.config_hash).try_take()
    out = execute_trial(CFG.to_dict(), {"results": str(tmp_path), "cpus_per_trial": 1})
    assert out["status"] == "failed" and "ClaimBlocked" in out["error"] and "(not trained)" in out["error"], out
