"""Issue 28: a lock that cannot be outlived. Every stale state of driver.json is recognised (or, where only a
person can tell, the message names the file to delete); a driver whose lock was taken over stops at once and
exits non-zero; workers re-check the store before training; `bench run --sweep` takes the same lock."""

from __future__ import annotations

import glob
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bench_subprocess import BENCH, ENV, bench
from suite.results.store import done_hashes
from suite.run.driver_lock import DriverLock, LockLost, StoreBusy
from suite.run.sweep_guard import lost_as_error
from test_drivers import PLAIN, ran_now, write_spec

HOST = socket.gethostname()


def put(root: Path, **holder) -> Path:
    path = root / "s" / "driver.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": HOST, "pid": os.getpid(), "token": "x", "started_at": time.time(),
                                "heartbeat_at": time.time(), **holder}))
    return path


@pytest.mark.parametrize("holder, note", [
    ({"heartbeat_at": float("nan")}, "not whole"),
    ({"heartbeat_at": float("inf"), "host": "elsewhere"}, "not whole"),
    ({"started_at": "yesterday"}, "not whole"),
    ({"started_at": 1e300}, "not whole"),
    ({"pid": "12"}, "not whole"),
    # this process, as a pid reused: it started long after the lock did
    ({"started_at": time.time() - 86400}, "is another process now"),
    # a pid that runs here and is the lock's, but silent past the staleness: stopped or hung
    ({"heartbeat_at": time.time() - 3600}, "stopped, suspended or hung"),
])
def test_every_stale_state_is_taken_over(tmp_path, holder, note):
    put(tmp_path, **holder)
    with DriverLock(str(tmp_path), "s") as lock:
        assert note in lock.note, lock.note


def test_a_heartbeat_from_the_future_is_left_to_a_person_naming_the_file(tmp_path):
    path = put(tmp_path, host="elsewhere", pid=12, heartbeat_at=time.time() + 3600)
    with pytest.raises(StoreBusy) as caught:
        DriverLock(str(tmp_path), "s").acquire()
    message = str(caught.value)
    assert "in the future" in message and f"delete {path}" in message and "s ago" not in message
    # a live holder here with a fresh heartbeat holds, and its age reads as an age
    put(tmp_path)
    with pytest.raises(StoreBusy, match=r"last heartbeat \d+s ago"):
        DriverLock(str(tmp_path), "s").acquire()


def test_a_driver_whose_lock_is_taken_over_stops_at_once(tmp_path):
    lock = DriverLock(str(tmp_path), "s", stale_after_s=1, beat_s=0.1)
    start = time.monotonic()
    with pytest.raises(LockLost, match=r"lost the lock of sweep 's'.*pid 4242 on host elsewhere holds it now"):
        with lock, lost_as_error(lock):
            put(tmp_path, host="elsewhere", pid=4242, token="other")  # another driver took over
            time.sleep(30)
    assert time.monotonic() - start < 10
    assert json.loads((tmp_path / "s" / "driver.json").read_text())["token"] == "other"  # not overwritten


def test_a_worker_does_not_train_a_trial_stored_meanwhile(tmp_path):
    from suite.config import TrialConfig
    from suite.run.worker import execute_trial

    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="dense", epochs=1, sweep="s")
    job = {"results": str(tmp_path), "cpus_per_trial": 1}
    first = execute_trial(cfg.to_dict(), job)
    assert first["status"] == "ok", first
    stored = next((tmp_path / "s" / "rows").glob("*.parquet"))
    before = stored.stat().st_mtime_ns
    again = execute_trial(cfg.to_dict(), job)  # as a second driver's worker would, after planning
    assert again["status"] == "reused" and again["train_s"] < 5
    assert stored.stat().st_mtime_ns == before


def test_bench_run_takes_the_sweeps_lock(tmp_path):
    put(tmp_path, host=HOST, pid=os.getpid())  # this test process holds the sweep "s"
    done = bench("run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dense", "--epochs", "1",
                 "--sweep", "s", "--results", str(tmp_path), timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is being run by another driver" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "s" / "rows").exists()


@pytest.mark.slow
def test_a_driver_stopped_past_the_staleness_stops_when_it_resumes(tmp_path):
    """SIGSTOP a driver past the staleness, let a second driver take over and finish, SIGCONT the first."""
    spec = write_spec(tmp_path, "stop", PLAIN)
    root = tmp_path / "res"
    env = {**ENV, "BENCH_LOCK_STALE_S": "3", "BENCH_LOCK_BEAT_S": "0.5"}
    first = subprocess.Popen([*BENCH, "sweep", str(spec), "--results", str(root), "--max-concurrent", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not glob.glob(str(root / "stop" / "rows" / "*.parquet")):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.1)
        first.send_signal(signal.SIGSTOP)
        time.sleep(4)  # past the staleness
        second = subprocess.run([*BENCH, "sweep", str(spec), "--results", str(root)], capture_output=True,
                                text=True, env=env, timeout=400)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "took over the lock of a driver that is gone" in second.stderr
        first.send_signal(signal.SIGCONT)
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert first.returncode == 1, out + err
    assert "lost the lock" in out and "Traceback" not in out + err
    now, already = ran_now(second.stdout)
    assert now + already == 3 and len(done_hashes(root, "stop")) == 3
    first_trained = ran_now(out)[0] if "ran now" in out else 0
    assert first_trained + now <= 3 + 1, (out, second.stdout)  # at most the trial in flight at SIGSTOP twice
    assert not (root / "stop" / "driver.json").exists()
