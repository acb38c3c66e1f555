"""Injected faults around real sweeps (local Ray, synthetic data, 1 epoch): damaged files and an lr-search
record, two drivers at once, SIGTERM, a store that stops taking writes mid-sweep. Each checks: no stored
result lost, no trial trained twice, no raw traceback, damaged trials trained again."""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from bench_subprocess import BENCH, ENV, bench
from suite.results.store import done_hashes

SPEC = """\
    name: {name}
    model: lenet300
    dataset: synthetic
    train: {{epochs: 1}}
    seeds: [0]
    lr_search: {{budget: 1, grid: [0.15], lam: 1.0e-6}}
    methods:
      dense: {{}}
      dwf: {{depth: [2], lam: [1.0e-6, 1.0e-3], lr: {{2: auto}}}}
      gmp: {{compression: [10], finetune_epochs: 1}}
    """


# Without an lr search (one Tune phase less) where the test is not about it: 3 trials.
PLAIN = """\
    name: {name}
    model: lenet300
    dataset: synthetic
    train: {{epochs: 1}}
    seeds: [0]
    methods:
      dense: {{}}
      dwf: {{depth: [2], lam: [1.0e-4], lr: 0.15}}
      gmp: {{compression: [10], finetune_epochs: 1}}
    """


def write_spec(tmp_path: Path, name: str, text: str = SPEC) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text.format(name=name)))
    return path


def ran_now(stdout: str) -> tuple[int, int]:
    """(trials trained now, trials already in the store) from a sweep's summary."""
    match = re.search(r"(\d+) ran now .* (\d+) already in the store", stdout)
    if match:
        return int(match.group(1)), int(match.group(2))
    match = re.search(r"all (\d+) trial\(s\) already in the store", stdout)
    # A summary neither form matches is a test failure, not "nothing ran": a changed wording must not pass.
    assert match, f"no trial counts in the sweep's summary:\n{stdout}"
    return 0, int(match.group(1))


def no_traceback(proc) -> None:
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text and "*** SIG" not in text, text


def snapshot(root: Path, sweep: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / sweep / "rows").glob("*.parquet")}


@pytest.mark.slow
def test_damaged_files_are_moved_aside_and_their_trials_retrained(tmp_path):
    spec = write_spec(tmp_path, "dmg")
    root = tmp_path / "res"
    first = bench("sweep", str(spec), "--results", str(root))
    assert first.returncode == 0, first.stdout + first.stderr
    rows = sorted((root / "dmg" / "rows").glob("*.parquet"))
    assert len(rows) == 4
    good = rows[3].read_bytes()
    data = rows[0].read_bytes()
    rows[0].write_bytes(data[: len(data) // 3])  # truncated
    rows[1].write_bytes(b"garbage" * 100)  # garbage
    rows[2].unlink()
    rows[2].symlink_to(tmp_path / "nowhere.parquet")  # dangling
    (record,) = (root / "dmg" / "lr_search").glob("*.json")
    record.write_text('{"lr": 0.1')  # a corrupt lr-search record
    damaged = {rows[0].name, rows[1].name, rows[2].name}

    plan = bench("sweep", str(spec), "--results", str(root), "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert sum(line.startswith("damaged: ") for line in plan.stdout.splitlines()) == 4, plan.stdout
    assert not (root / "dmg" / "damaged").exists()  # a dry run moves nothing

    second = bench("sweep", str(spec), "--results", str(root))
    assert second.returncode == 0, second.stdout + second.stderr
    no_traceback(second)
    assert "4 damaged file(s) moved aside" in second.stdout
    said = " ".join(second.stdout.split())  # each file with what it costs: not every one is a retrained trial
    assert said.count(": its trial is trained again") == 3 and "the lr search is redone from its stored trials" in said
    kept = {p.name for p in (root / "dmg" / "damaged").rglob("*") if p.is_file() or p.is_symlink()}
    assert damaged | {record.name} <= kept  # moved aside, never deleted
    now, already = ran_now(second.stdout)
    # Damaged trials are done again: trained, or (the dwf trial at the search's λ) copied from the
    # intact search trial; the untouched trial is not retrained.
    assert now + already == 4 and now <= 3 and already >= 1
    assert rows[3].read_bytes() == good
    assert len(done_hashes(root, "dmg")) == 4 and record.is_file()


@pytest.mark.slow
def test_two_drivers_at_once_train_no_trial_twice(tmp_path):
    spec = write_spec(tmp_path, "two", PLAIN)
    root = tmp_path / "res"
    procs = [subprocess.Popen([*BENCH, "sweep", str(spec), "--results", str(root)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    outs = [p.communicate(timeout=400) for p in procs]
    codes = [p.returncode for p in procs]
    trained = [ran_now(out)[0] if code == 0 else 0 for (out, _), code in zip(outs, codes)]  # refused: no summary
    assert sum(trained) == 3, outs  # 3 trials: nothing trained twice
    assert len(done_hashes(root, "two")) == 3
    for (out, err), code in zip(outs, codes):
        assert "Traceback" not in out + err
        if code == 2:  # the second driver says what it found
            assert "is being run by another driver: pid" in err and "on host" in err
        else:
            assert code == 0, out + err
    assert 2 in codes or 0 in trained, outs  # refused, or started only after the first had finished
    assert not (root / "two" / "driver.json").exists()  # released


@pytest.mark.slow
def test_sigterm_is_handled_like_ctrl_c_and_leaves_no_scratch_folder(tmp_path):
    spec = write_spec(tmp_path, "term", PLAIN)
    root = tmp_path / "res"
    proc = subprocess.Popen([*BENCH, "sweep", str(spec), "--results", str(root), "--max-concurrent", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not glob.glob(str(root / "term" / "rows" / "*.parquet")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.1)
        stored = snapshot(root, "term")
        proc.send_signal(signal.SIGTERM)  # what Slurm sends; to the driver only
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, out + err
    assert "interrupted" in out and "re-run the same command" in out
    assert "Traceback" not in out + err and "*** SIG" not in err
    assert not glob.glob(os.path.join(tempfile.gettempdir(), f"bench-tune-{proc.pid}-*"))
    assert not (root / "term" / "driver.json").exists()
    again = bench("sweep", str(spec), "--results", str(root))
    assert again.returncode == 0, again.stdout + again.stderr
    for name, data in stored.items():
        assert (root / "term" / "rows" / name).read_bytes() == data  # nothing stored was lost or redone
    now, already = ran_now(again.stdout)
    assert now + already == 3 and already >= len(stored)


@pytest.mark.slow
def test_a_store_that_stops_taking_writes_mid_sweep(tmp_path):
    spec = write_spec(tmp_path, "ro", PLAIN)
    root = tmp_path / "res"
    proc = subprocess.Popen([*BENCH, "sweep", str(spec), "--results", str(root), "--max-concurrent", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not glob.glob(str(root / "ro" / "rows" / "*.parquet")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.1)
        # The sweep's folder goes away under the driver and a file takes its place: nothing can be written.
        (root / "ro").rename(root / "ro.kept")
        (root / "ro").write_text("not a folder")
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in out + err and "failed trial(s)" in out
    assert "StoreWriteError" in out or "NotADirectoryError" in out
    stored = {p.name: p.read_bytes() for p in (root / "ro.kept" / "rows").glob("*.parquet")}
    (root / "ro").unlink()
    shutil.move(root / "ro.kept", root / "ro")
    again = bench("sweep", str(spec), "--results", str(root))
    assert again.returncode == 0, again.stdout + again.stderr
    assert {n: d for n, d in snapshot(root, "ro").items() if n in stored} == stored  # nothing stored was lost
    now, already = ran_now(again.stdout)
    assert now + already == 3 and already >= len(stored)


def test_the_sweep_summary_counts_every_status_a_trial_ends_with():
    from suite.run.outcome import SweepOutcome, TrialRecord
    from suite.run.summary import summary_lines as sweep_summary

    records = [TrialRecord(str(i), "t", status)
               for i, status in enumerate(["ok", "ok", "collapsed", "diverged", "failed"])]
    first = sweep_summary(SweepOutcome("s", "r", total=6, already_done=1, records=records))[0]
    assert "5 ran now (2 ok, 1 collapsed, 1 diverged, 1 failed) · 1 already in the store" in first
