"""A holder's heartbeat lives in a file of its own (suite/run/guard/beat.py), so a beat never rewrites the lock's
or a claim's record: a takeover that lands between a beat's read and its write stays whole (the race of
docs/reliability.md), and staleness is judged from the beat file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import suite.run.guard.driver_lock as driver_lock
import suite.run.guard.trial_claim as trial_claim
from suite.run.guard.driver_lock import DriverLock, StoreBusy
from suite.run.guard.trial_claim import TrialClaim


def taker() -> dict:
    """Another process's record, taken just now: its times are read when a test writes it, not when the module
    is collected (a suite runs for many minutes, past any staleness a test sets)."""
    now = time.time()
    return {"host": "elsewhere", "pid": 4242, "token": "abc123", "started_at": now, "heartbeat_at": now}


def beats(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.beat"))


def test_a_heartbeat_never_rewrites_the_lock_record_and_leaves_nothing_at_release(tmp_path):
    lock = DriverLock(str(tmp_path), "s", beat_s=0.05)
    with lock:
        record = (tmp_path / "s" / "driver.json").read_bytes()
        time.sleep(0.4)  # several beats
        assert (tmp_path / "s" / "driver.json").read_bytes() == record
        [beat] = beats(tmp_path / "s")
        assert beat.name == f"driver.json.{lock.token}.beat"
        holder, _ = lock._read()
        assert holder["heartbeat_at"] > json.loads(record)["heartbeat_at"]  # judged by its beat
    assert not (tmp_path / "s" / "driver.json").exists() and beats(tmp_path / "s") == []


def test_a_takeover_between_a_beats_read_and_its_write_stays_whole(tmp_path, monkeypatch):
    lock = DriverLock(str(tmp_path), "s", beat_s=0.05).acquire()
    record = tmp_path / "s" / "driver.json"
    seen, armed, real = [], [], driver_lock.read_bytes

    def read_then_taken_over(root, relpath):  # the taker writes right after a beat read this driver's token
        data = real(root, relpath)
        if armed and relpath.endswith("driver.json") and not seen:
            armed.clear()
            record.write_text(json.dumps(taker()))
        return data

    monkeypatch.setattr(driver_lock, "read_bytes", read_then_taken_over)
    monkeypatch.setattr(lock, "_lost", seen.append)
    try:
        armed.append(True)
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert json.loads(record.read_text())["token"] == "abc123"  # the taker's record is whole
        assert seen and seen[0]["token"] == "abc123"  # and this driver saw it had lost
    finally:
        lock.release()
    assert json.loads(record.read_text())["token"] == "abc123"  # its release left it alone


def test_a_release_never_deletes_a_record_taken_over_in_its_last_moment(tmp_path, monkeypatch):
    lock = DriverLock(str(tmp_path), "s", beat_s=3600).acquire()
    record = tmp_path / "s" / "driver.json"
    real_rename, real_read = os.rename, driver_lock.read_bytes

    def taken_over(*_):
        if json.loads(record.read_text())["token"] == lock.token:
            record.write_text(json.dumps(taker()))

    def rename(src, dst):  # the taker writes between the release's look (if any) and its delete
        if Path(src) == record:
            taken_over()
        return real_rename(src, dst)

    def read(root, relpath):
        data = real_read(root, relpath)
        if lock._stop.is_set() and relpath.endswith("driver.json"):
            taken_over()
        return data

    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(driver_lock, "read_bytes", read)
    lock.release()
    assert json.loads(record.read_text())["token"] == "abc123"


def test_a_record_with_an_old_time_but_a_fresh_beat_is_held(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "driver.json").write_text(json.dumps({**taker(), "heartbeat_at": time.time() - 3600}))
    (folder / "driver.json.abc123.beat").write_text(json.dumps({"heartbeat_at": time.time()}))
    with pytest.raises(StoreBusy, match="pid 4242 on host elsewhere"):
        DriverLock(str(tmp_path), "s", stale_after_s=300).acquire()


def test_a_gone_holders_beat_is_removed_when_its_lock_is_taken_over(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "driver.json").write_text(json.dumps({**taker(), "heartbeat_at": time.time() - 3600}))
    (folder / "driver.json.abc123.beat").write_text(json.dumps({"heartbeat_at": time.time() - 3600}))
    with DriverLock(str(tmp_path), "s", stale_after_s=300) as lock:
        assert "no heartbeat from elsewhere" in lock.note
        assert [p.name for p in beats(folder)] in ([], [f"driver.json.{lock.token}.beat"])


@pytest.mark.parametrize("beat", ["not json", json.dumps({"heartbeat_at": float("nan")}), json.dumps([1]),
                                  json.dumps({"heartbeat_at": time.time() * 1000}), "[" * 100_000],
                         ids=["not json", "nan", "a list", "milliseconds", "deep nesting"])  # ids stable across
# processes (one of the values is the time): parallel test workers must collect the same tests
def test_a_beat_file_that_is_not_a_time_changes_nothing(tmp_path, beat):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "driver.json").write_text(json.dumps({**taker(), "heartbeat_at": time.time() - 3600}))
    (folder / "driver.json.abc123.beat").write_text(beat)
    with DriverLock(str(tmp_path), "s", stale_after_s=300) as lock:  # judged by the record's old time: gone
        assert "no heartbeat" in lock.note


def test_a_live_holder_whose_beat_is_not_a_time_is_not_taken_over(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "driver.json").write_text(json.dumps(taker()))  # fresh
    (folder / "driver.json.abc123.beat").write_text(json.dumps({"heartbeat_at": time.time() * 1000}))
    with pytest.raises(StoreBusy, match="pid 4242 on host elsewhere"):
        DriverLock(str(tmp_path), "s", stale_after_s=300).acquire()


def test_a_claim_taken_over_between_a_beats_read_and_its_write_stays_whole(tmp_path, monkeypatch):
    claim = TrialClaim(str(tmp_path), "s", "abc", beat_s=0.05)
    assert claim.try_take() is None
    path = tmp_path / "s" / "claims" / "abc.json"
    armed, real = [True], trial_claim.read_bytes

    def read_then_taken_over(root, relpath):
        data = real(root, relpath)
        if armed and relpath.endswith("abc.json"):
            armed.clear()
            path.write_text(json.dumps(taker()))
        return data

    monkeypatch.setattr(trial_claim, "read_bytes", read_then_taken_over)
    try:
        deadline = time.monotonic() + 10
        while claim.lost is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert json.loads(path.read_text())["token"] == "abc123"
        assert "pid 4242 on host elsewhere trains it now" in claim.lost
    finally:
        claim.release()
    assert json.loads(path.read_text())["token"] == "abc123"  # never another's deleted
    assert [p.name for p in beats(path.parent)] == []


def test_a_claim_whose_holder_beats_while_it_is_taken_over_is_put_back(tmp_path, monkeypatch):
    path = tmp_path / "s" / "claims" / "abc.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**taker(), "heartbeat_at": time.time() - 3600}))
    real_rename = os.rename

    def holder_beats_first(src, dst):  # the holder, stopped for an hour, beats once more as it is moved aside
        if Path(src) == path:
            (path.parent / "abc.json.abc123.beat").write_text(json.dumps({"heartbeat_at": time.time()}))
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", holder_beats_first)
    claim = TrialClaim(str(tmp_path), "s", "abc", stale_after_s=300)
    assert claim.try_take() == {}  # not taken: look again, and wait for the holder
    assert json.loads(path.read_text())["token"] == "abc123" and not claim.held


def test_beats_left_by_holders_that_are_gone_are_removed_when_the_claim_is_taken(tmp_path):
    folder = tmp_path / "s" / "claims"
    folder.mkdir(parents=True)
    (folder / "abc.json.deadbeef.beat").write_text(json.dumps({"heartbeat_at": 1.0}))
    (folder / "abd.json.deadbeef.beat").write_text(json.dumps({"heartbeat_at": 1.0}))  # another trial's
    claim = TrialClaim(str(tmp_path), "s", "abc", beat_s=3600)
    assert claim.try_take() is None
    try:
        assert [p.name for p in beats(folder)] == ["abd.json.deadbeef.beat"]
    finally:
        claim.release()


def test_a_release_on_a_store_that_fails_raises_nothing(tmp_path):
    claim = TrialClaim(str(tmp_path), "s", "abc", beat_s=3600)
    assert claim.try_take() is None
    (tmp_path / "s").rename(tmp_path / "s.kept")
    (tmp_path / "s").write_text("not a folder")  # nothing under it can be read, moved or deleted
    claim.release()
    lock = DriverLock(str(tmp_path / "t"), "s", beat_s=3600).acquire()
    (tmp_path / "t" / "s").rename(tmp_path / "t" / "s.kept")
    (tmp_path / "t" / "s").write_text("not a folder")
    lock.release()


CHILD = """
import sys, time
from suite.run.guard.driver_lock import DriverLock
lock = DriverLock(sys.argv[1], "s", stale_after_s=1, beat_s=0.1)
with lock:
    print("held", flush=True)
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        print("stopped:", lock.lost, flush=True)
        sys.exit(3)
"""


def test_a_driver_started_in_the_background_with_sigint_ignored_still_stops_when_its_lock_is_taken(tmp_path):
    import signal
    import subprocess
    import sys

    # `nohup bench sweep ... &` from a script: the shell starts it with SIGINT ignored.
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[1],
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert child.stdout.readline().strip() == "held"
        (tmp_path / "s" / "driver.json").write_text(json.dumps(taker()))
        out, _ = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 3 and "lost the lock of sweep 's'" in out, out
