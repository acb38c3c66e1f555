"""Issue 28: a lock that cannot be outlived. Every stale state of driver.json is recognised (or, where only a
person can tell, the message names the file to delete); a driver whose lock was taken over stops at once and
exits non-zero; workers re-check the store before training; `bench run --sweep` takes the same lock."""

from __future__ import annotations

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
from suite.run.guard.driver_lock import DriverLock, LockLost, StoreBusy
from suite.run.guard.store import lost_as_error
from test_drivers import write_spec

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


def test_a_driver_whose_lock_is_taken_over_stops_at_once(tmp_path, request):
    lock = DriverLock(str(tmp_path), "s", stale_after_s=1, beat_s=0.1)
    # The stop arrives as a SIGINT in the main thread; an earlier test of the same process (under CI's full run)
    # leaves another SIGINT handler installed, so this test of the plain path sets Python's own for its span.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    start = time.monotonic()
    with pytest.raises(LockLost, match=r"lost the lock of sweep 's'.*pid 4242 on host elsewhere holds it now"):
        with lock, lost_as_error(lock):
            # Another driver takes over, once: no heartbeat rewrites the record (suite.run.guard.beat), so a beat
            # that read the file just before cannot put this driver's record back over the taker's.
            put(tmp_path, host="elsewhere", pid=4242, token="other")
            while time.monotonic() - start < 30:
                time.sleep(0.1)
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


PLUGIN = """\
import os, pathlib, time

import suite.train as train

LOG, HOLD = pathlib.Path({log!r}), pathlib.Path({hold!r})
_trained = train.run_trial


def run_trial(cfg, *args, **kwargs):  # every training of a trial is logged; it waits while HOLD exists
    with open(LOG, "a") as out:
        out.write(f"{{cfg.config_hash}} {{os.getpid()}}\\n")
    deadline = time.monotonic() + 300
    while HOLD.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return _trained(cfg, *args, **kwargs)


train.run_trial = run_trial
"""

STOPPED = """\
    name: stop
    model: lenet300
    dataset: synthetic
    train: {{epochs: 1}}
    seeds: [0, 1, 2, 3]
    plugins: ["{plugin}"]
    methods:
      dense: {{}}
    """


def _wait_for(what, condition, proc, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, (what, proc.communicate())
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _trainings(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.slow
def test_a_driver_stopped_past_the_staleness_stops_when_it_resumes_and_no_trial_is_trained_twice(tmp_path):
    """SIGSTOP a driver past the staleness while two of its trials are in flight in its workers; a second driver
    takes over and finishes the sweep; SIGCONT the first. Every trial is trained exactly once (the second driver
    waits for the first one's trials in flight, through their claims), none is lost, and the first driver
    exits 1 saying it lost its lock."""
    log, hold = tmp_path / "trained.log", tmp_path / "hold"
    hold.touch()  # every training waits at its start until the test lets go
    plugin = tmp_path / "count_trainings.py"
    plugin.write_text(PLUGIN.format(log=str(log), hold=str(hold)))
    spec = write_spec(tmp_path, "stop", STOPPED.replace("{plugin}", str(plugin)))
    root = tmp_path / "res"
    env = {**ENV, "BENCH_LOCK_STALE_S": "3", "BENCH_LOCK_BEAT_S": "0.5"}
    args = [*BENCH, "sweep", str(spec), "--results", str(root), "--num-cpus", "4"]
    first = subprocess.Popen([*args, "--max-concurrent", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, start_new_session=True)
    second = None
    try:
        _wait_for("two trials in flight in the first driver", lambda: len(_trainings(log)) == 2, first)
        first.send_signal(signal.SIGSTOP)  # the driver only: its workers train on, holding their claims
        time.sleep(4)  # past the staleness
        second = subprocess.Popen([*args, "--max-concurrent", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env, start_new_session=True)
        lock = root / "stop" / "driver.json"
        _wait_for("the second driver to take the lock over",
                  lambda: lock.exists() and f'"pid": {second.pid},' in lock.read_text(), second)
        # its workers start the two trials not in flight, and wait on the claims of the two that are
        _wait_for("the second driver to start the other trials", lambda: len(_trainings(log)) == 4, second)
        time.sleep(3)
        hold.unlink()
        out2, err2 = second.communicate(timeout=400)
        first.send_signal(signal.SIGCONT)
        out1, err1 = first.communicate(timeout=120)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGKILL)
    assert second.returncode == 0, out2 + err2
    assert "took over the lock of a driver that is gone" in err2 + out2
    assert first.returncode == 1, out1 + err1
    assert "lost the lock" in out1 and "Traceback" not in out1 + err1 + out2 + err2
    trained = _trainings(log)
    assert sorted(set(trained)) == sorted(trained) and len(trained) == 4, trained  # each trial trained once
    assert done_hashes(root, "stop") == set(trained)  # and stored: none lost
    assert "2 found stored when their turn came" in out2, out2  # the two in flight at the stop, reused
    assert not (root / "stop" / "driver.json").exists()
    assert not list((root / "stop" / "claims").glob("*.json"))  # every claim released
