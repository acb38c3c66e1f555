"""A holder's heartbeat lives in a file of its own (suite/run/guard/beat.py), so a beat never rewrites the lock's
or a claim's record: a takeover that lands between a beat's read and its write stays whole (the race of
docs/reliability.md), and staleness is judged from the beat file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import suite.run.guard.driver_lock as driver_lock
import suite.run.guard.trial_claim as trial_claim
from suite.run.guard.driver_lock import DriverLock, StoreBusy
from suite.run.guard.trial_claim import TrialClaim

TAKER = {"host": "elsewhere", "pid": 4242, "token": "abc123", "started_at": time.time(), "heartbeat_at": time.time()}


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
    lock = DriverLock(str(tmp_path), "s", beat_s=3600).acquire()  # its own thread sleeps: beats by hand
    record = tmp_path / "s" / "driver.json"
    real = driver_lock.write_beat

    def taken_over_first(*args):  # the taker writes after this driver read its own token, before it writes
        record.write_text(json.dumps(TAKER))
        real(*args)

    monkeypatch.setattr(driver_lock, "write_beat", taken_over_first)
    seen = []
    monkeypatch.setattr(lock, "_lost", seen.append)
    try:
        assert lock.beat_once()  # it had read its own token
        assert json.loads(record.read_text())["token"] == "abc123"  # the taker's record is whole
        assert not lock.beat_once() and seen[0]["token"] == "abc123"  # the next beat sees it lost
    finally:
        lock._stop.set()


def test_a_record_with_an_old_time_but_a_fresh_beat_is_held(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "driver.json").write_text(json.dumps({**TAKER, "heartbeat_at": time.time() - 3600}))
    (folder / "driver.json.abc123.beat").write_text(json.dumps({"heartbeat_at": time.time()}))
    with pytest.raises(StoreBusy, match="pid 4242 on host elsewhere"):
        DriverLock(str(tmp_path), "s", stale_after_s=300).acquire()


def test_a_gone_holders_beat_is_removed_when_its_lock_is_taken_over(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "driver.json").write_text(json.dumps({**TAKER, "heartbeat_at": time.time() - 3600}))
    (folder / "driver.json.abc123.beat").write_text(json.dumps({"heartbeat_at": time.time() - 3600}))
    with DriverLock(str(tmp_path), "s", stale_after_s=300) as lock:
        assert "no heartbeat from elsewhere" in lock.note
        assert [p.name for p in beats(folder)] in ([], [f"driver.json.{lock.token}.beat"])


@pytest.mark.parametrize("beat", ["not json", json.dumps({"heartbeat_at": float("nan")}), json.dumps([1])])
def test_a_beat_file_that_is_not_a_time_changes_nothing(tmp_path, beat):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "driver.json").write_text(json.dumps({**TAKER, "heartbeat_at": time.time() - 3600}))
    (folder / "driver.json.abc123.beat").write_text(beat)
    with DriverLock(str(tmp_path), "s", stale_after_s=300) as lock:  # judged by the record's old time: gone
        assert "no heartbeat" in lock.note


def test_a_claim_taken_over_between_a_beats_read_and_its_write_stays_whole(tmp_path, monkeypatch):
    claim = TrialClaim(str(tmp_path), "s", "abc", beat_s=3600)
    assert claim.try_take() is None
    path = tmp_path / "s" / "claims" / "abc.json"
    first = path.read_bytes()
    real = trial_claim.write_beat

    def taken_over_first(*args):
        path.write_text(json.dumps(TAKER))
        real(*args)

    monkeypatch.setattr(trial_claim, "write_beat", taken_over_first)
    try:
        assert claim.beat_once()
        assert json.loads(path.read_text())["token"] == "abc123" and path.read_bytes() != first
        assert not claim.beat_once() and "pid 4242 on host elsewhere trains it now" in claim.lost
    finally:
        claim.release()
    assert json.loads(path.read_text())["token"] == "abc123"  # never another's deleted
    assert beats(path.parent) == []
