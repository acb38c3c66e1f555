"""Injected store faults, without Ray: damaged files are named, skipped, moved aside (never deleted);
the report survives them; writes are readable per the umask; one driver holds a store at a time."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from suite.config import TrialConfig
from suite.run.guard.driver_lock import DriverLock, StoreBusy
from suite.run.guard.process import clean_stale_tempdirs
from suite.results.store import (
    DamagedRecord, load_sweep, load_table, quarantine_damaged, read_record, scan_rows, write_trial)
from suite.results.layout import StoreNameError, check_store_sweep, check_sweep_name, table_path
from suite.run.guard.store import set_aside
from suite.train import run_trial


@pytest.fixture(scope="module")
def results():
    """Three real one-epoch trials (synthetic data), trained once for the module."""
    return [run_trial(TrialConfig(model="lenet300", dataset="synthetic", method="dense", epochs=1, seed=s,
                                  sweep="s")) for s in range(3)]


def _store(tmp_path: Path, results) -> tuple[Path, list[Path]]:
    root = tmp_path / "res"
    return root, [write_trial(root, "s", r) for r in results]


def _damage(paths: list[Path]) -> None:
    """Truncate the first rows file, overwrite the second with garbage, turn the third into a dangling link."""
    data = paths[0].read_bytes()
    paths[0].write_bytes(data[: len(data) // 2])
    paths[1].write_bytes(b"not parquet at all" * 10)
    paths[2].unlink()
    paths[2].symlink_to(paths[2].parent / "gone.parquet")


def test_damaged_rows_files_do_not_count_and_are_moved_aside_not_deleted(tmp_path, results):
    root, paths = _store(tmp_path, results)
    assert scan_rows(root, "s")[0] == {r.config_hash for r in results}
    _damage(paths)
    done, damaged = scan_rows(root, "s")
    assert done == set()  # none of them counts as a finished trial
    problems = {Path(d.relpath).stem: d.problem for d in damaged}
    assert set(problems) == {r.config_hash for r in results}
    assert "Parquet" in problems[results[0].config_hash] and "dangling" in problems[results[2].config_hash]
    assert scan_rows(root, "s")[1] == damaged  # checking changes nothing
    moved = quarantine_damaged(root, "s")
    assert len(moved) == 3 and not list((root / "s" / "rows").iterdir())
    kept = sorted(p for p in (root / "s" / "damaged").rglob("*.parquet"))
    assert [p.name for p in kept] == sorted(p.name for p in paths)  # all kept, the link as a link
    assert any(p.is_symlink() for p in kept)
    assert len(load_table(root, "s", "history")) == 3  # side tables untouched


def test_a_copy_under_another_name_is_damage_and_rows_are_deduplicated(tmp_path, results):
    root, paths = _store(tmp_path, results)
    shutil.copy(paths[0], paths[0].parent / "0000000000000000.parquet")
    done, damaged = scan_rows(root, "s")
    assert done == {r.config_hash for r in results}
    assert [Path(d.relpath).stem for d in damaged] == ["0000000000000000"]
    assert "not '0000000000000000' of its name" in damaged[0].problem
    # A file holding the same row twice is read once: (config_hash, seed, point_id) is the key.
    record = dict(results[1].rows[0])
    write_trial(root, "s", type(results[1])(rows=[record, record], layers=results[1].layers,
                                            history=results[1].history))
    data = load_sweep(root, "s")
    assert len(data.rows) == 3 and data.duplicates == 1


def test_report_skips_and_names_damaged_files_and_missing_side_tables(tmp_path, results):
    from suite.analysis.writing import write_report

    root, paths = _store(tmp_path, results)
    paths[0].write_bytes(b"garbage")
    (root / "s" / "history" / paths[1].name).unlink()
    (root / "s" / "failed").mkdir()
    (root / "s" / "failed" / "abc.json").write_text("{not json")
    out = tmp_path / "report"
    write_report(root, "s", out, tables=["compression"], plots=["dynamics"])
    index = (out / "index.md").read_text()
    assert f"skipped a damaged file: {root}/s/rows/{paths[0].name}" in index
    assert f"{root}/s/failed/abc.json: not valid JSON" in index
    assert "lack their history table" in index and results[1].config_hash in index
    assert "2 result rows from 2 trials" in index


def test_bench_report_does_not_crash_on_garbage(tmp_path, results):
    root, paths = _store(tmp_path, results)
    paths[0].write_bytes(b"garbage")
    proc = subprocess.run([sys.executable, "-m", "suite.cli.main", "report", "s", "--results", str(root), "--out",
                           str(tmp_path / "rep"), "--table", "compression"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert paths[0].name in (tmp_path / "rep" / "index.md").read_text()


def test_corrupt_lr_search_record_is_named_and_moved_aside(tmp_path):
    root = tmp_path / "res"
    record = root / "s" / "lr_search" / "dwf_D2_abc.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"lr": 0.1, ')  # truncated
    with pytest.raises(DamagedRecord, match=str(record)):
        read_record(root, "s/lr_search/dwf_D2_abc.json")
    moved = set_aside(str(root), "s")
    assert [d.relpath for d in moved] == ["s/lr_search/dwf_D2_abc.json"]
    assert not record.exists() and Path(moved[0].moved_to).read_text() == '{"lr": 0.1, '
    assert read_record(root, "s/lr_search/dwf_D2_abc.json") is None  # so it is searched again


def test_files_are_created_readable_per_the_umask(tmp_path, results):
    old = os.umask(0o022)
    try:
        root, paths = _store(tmp_path, results[:1])
    finally:
        os.umask(old)
    for table in ("rows", "layers", "history"):
        mode = stat.S_IMODE((root / table_path("s", table, results[0].config_hash)).stat().st_mode)
        assert mode == 0o644, oct(mode)


def test_sweep_names_are_one_safe_path_component():
    for bad in ("..", ".", "/abs", "a/b", "", ".hidden", "a\\b", "x" * 200, None, 3):
        with pytest.raises(StoreNameError, match="allowed"):
            check_sweep_name(bad)
    assert check_sweep_name("lenet300_fmnist") == "lenet300_fmnist"
    assert check_store_sweep("lenet300_fmnist/lr_search") == "lenet300_fmnist/lr_search"  # the internal sub-sweep
    for bad in ("../lr_search", "a/b", "a/lr_search/x"):
        with pytest.raises(StoreNameError):
            check_store_sweep(bad)
    with pytest.raises(StoreNameError):
        table_path("s", "rows", "../../etc")


def test_a_second_driver_is_refused_naming_the_first(tmp_path):
    root = str(tmp_path / "res")
    with DriverLock(root, "s"):
        with pytest.raises(StoreBusy, match=rf"pid {os.getpid()} on host {socket.gethostname()}"):
            DriverLock(root, "s").acquire()
    with DriverLock(root, "s") as again:  # released at the end of the block
        assert again.note is None



def test_of_two_drivers_starting_together_one_holds_even_while_the_first_still_writes_its_record(tmp_path):
    """The first driver's record takes a while to write (here 0.5 s): the second must not meet a
    half-written lock file (which reads as damage and would be taken over, so both would run)."""
    import threading
    import time

    root = str(tmp_path / "res")
    slow = DriverLock(root, "s")
    record = slow._record

    def slow_record() -> bytes:
        time.sleep(0.5)
        return record()

    slow._record = slow_record
    outcomes: dict[str, object] = {}

    def first() -> None:
        try:
            outcomes["first"] = slow.acquire()
        except StoreBusy as exc:
            outcomes["first"] = exc

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.2)  # the first driver is inside acquire, writing its record
    try:
        outcomes["second"] = DriverLock(root, "s").acquire()
    except StoreBusy as exc:
        outcomes["second"] = exc
    thread.join()
    held = [o for o in outcomes.values() if isinstance(o, DriverLock)]
    assert len(held) == 1 and held[0].note is None, outcomes
    for lock in held:
        lock.release()
    assert sorted(p.name for p in (tmp_path / "res" / "s").iterdir()) == []  # no private copy left behind

def test_a_dead_drivers_lock_is_taken_over(tmp_path):
    root = tmp_path / "res"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    pid = int(dead.stdout)
    (root / "s").mkdir(parents=True)
    holder = {"host": socket.gethostname(), "pid": pid, "token": "x", "started_at": 0, "heartbeat_at": 0}
    (root / "s" / "driver.json").write_text(json.dumps(holder))
    with DriverLock(str(root), "s") as lock:
        assert f"pid {pid}" in lock.note and "no longer runs" in lock.note
    # Another host's lock with a recent heartbeat holds; an old heartbeat is taken over.
    import time

    holder.update(host="elsewhere", heartbeat_at=time.time())
    (root / "s" / "driver.json").write_text(json.dumps(holder))
    with pytest.raises(StoreBusy, match="host elsewhere"):
        DriverLock(str(root), "s").acquire()
    holder.update(heartbeat_at=time.time() - 3600)
    (root / "s" / "driver.json").write_text(json.dumps(holder))
    with DriverLock(str(root), "s") as lock:
        assert "no heartbeat from elsewhere" in lock.note


def test_stale_tune_scratch_folders_of_dead_pids_are_removed(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)
    stale = tmp_path / f"bench-tune-{dead}-abc"
    mine = tmp_path / f"bench-tune-{os.getpid()}-abc"
    other = tmp_path / "bench-tune-notapid"
    for folder in (stale, mine, other):
        (folder / "sub").mkdir(parents=True)
    assert clean_stale_tempdirs(str(tmp_path)) == [str(stale)]
    assert not stale.exists() and mine.exists() and other.exists()


def test_a_store_that_cannot_be_written_fails_the_trial_before_training(tmp_path):
    from suite.run.worker import execute_trial

    root = tmp_path / "res"
    root.mkdir()
    (root / "s").write_text("a file where the sweep folder should be")
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="dense", epochs=1, sweep="s")
    out = execute_trial(cfg.to_dict(), {"results": str(root), "cpus_per_trial": 1})
    assert out["status"] == "failed" and "not trained" in out["error"] and str(root / "s") in out["error"]
    assert out["train_s"] < 5  # it did not train


def test_the_layout_names_every_kind_of_stored_file():
    from suite.results import layout

    assert layout.kind_of(layout.table_path("s", "rows", "abc")) == "rows"
    assert layout.kind_of(layout.table_path(layout.lr_search_sweep("s"), "history", "abc")) == "history"
    assert layout.kind_of(layout.failed_path("s", "abc")) == "failed"
    assert layout.kind_of(layout.lr_search_path("s", "dwf_D2_x")) == layout.LR_SEARCH
    assert layout.kind_of(layout.driver_path("s")) == "other"
    assert layout.checkpoint_path("abc") == "checkpoints/abc.pt"
    with pytest.raises(layout.StoreNameError):
        layout.checkpoint_path("../x")


def test_without_hard_links_the_lock_is_created_exclusively_still(tmp_path, monkeypatch):
    def no_links(*args):
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(os, "link", no_links)
    root = str(tmp_path / "res")
    with DriverLock(root, "s"):
        with pytest.raises(StoreBusy):
            DriverLock(root, "s").acquire()
        assert [p.name for p in (tmp_path / "res" / "s").iterdir()] == ["driver.json"]
