"""A store that never discards a trained result (issue 28): each test injects one fault and checks that no
trained or stored result is lost, that what is not a result is named and set aside, and that nothing raises a
raw traceback."""

from __future__ import annotations

import dataclasses
import errno
import json
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from suite.config import TrialConfig
from suite.results.checkpoints import CheckpointCache
from suite.results.layout import table_path
from suite.results.store import (
    DamagedRecord,
    StoreReadError,
    TrialResult,
    UnstorableResult,
    load_failures_checked,
    load_sweep,
    quarantine_damaged,
    read_record,
    scan_rows,
    write_trial,
)
from suite.run.worker import execute_trial
from suite.train import run_trial

CFG = {"model": "lenet300", "dataset": "synthetic", "method": "dense", "epochs": 1, "sweep": "s"}


@pytest.fixture(scope="module")
def results():
    """Two real one-epoch trials (synthetic data), trained once for the module."""
    return [run_trial(TrialConfig(**CFG, seed=s)) for s in range(2)]


def _store(tmp_path: Path, results) -> tuple[Path, list[Path]]:
    root = tmp_path / "res"
    return root, [write_trial(root, "s", r) for r in results]


def test_a_dense_checkpoint_that_fails_to_write_is_a_warning_and_the_rows_are_stored(tmp_path, monkeypatch):
    def full_disk(self, key, state):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(CheckpointCache, "put", full_disk)
    root = tmp_path / "res"
    cfg = TrialConfig(**CFG, seed=5)
    with pytest.warns(UserWarning, match="dense checkpoint .* not written .*No space left"):
        out = execute_trial(cfg.to_dict(), {"results": str(root), "cpus_per_trial": 1})
    assert out["status"] == "ok", out
    assert scan_rows(root, "s")[0] == {cfg.config_hash}  # the trained result is in the store
    assert not (root / "checkpoints" / f"{cfg.config_hash}.pt").exists()


def test_on_a_real_full_disk_the_rows_are_stored_and_the_checkpoint_is_a_warning(tmp_path):
    """The issue's case on a real file system: a 512 KiB tmpfs (root only) takes a trial's rows but not its
    dense checkpoint (1.1 MB); the checkpoint's partial file is removed and the trained result is stored."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "small"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        cfg = TrialConfig(**CFG, seed=6)
        with pytest.warns(UserWarning, match="dense checkpoint .* not written .*No space left"):
            out = execute_trial(cfg.to_dict(), {"results": str(disk / "res"), "cpus_per_trial": 1})
        assert out["status"] == "ok", out
        assert scan_rows(disk / "res", "s")[0] == {cfg.config_hash}
        assert not list((disk / "res").rglob("*.pt")) and not list((disk / "res").rglob(".*.tmp"))
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_directory_at_a_rows_path_is_named_moved_aside_and_the_trial_stored(tmp_path, results):
    root = tmp_path / "res"
    blocked = root / table_path("s", "rows", results[0].config_hash)
    blocked.mkdir(parents=True)
    (blocked / "inside.txt").write_text("kept")
    done, damaged = scan_rows(root, "s")
    assert done == set() and [d.problem for d in damaged] == ["a directory where a file should be"]
    cfg = TrialConfig(**CFG, seed=0)
    assert cfg.config_hash == results[0].config_hash
    with pytest.warns(UserWarning, match="set aside before training"):
        out = execute_trial(cfg.to_dict(), {"results": str(root), "cpus_per_trial": 1})
    assert out["status"] == "ok", out
    assert scan_rows(root, "s") == ({cfg.config_hash}, [])
    assert [p.read_text() for p in (root / "s" / "damaged").rglob("inside.txt")] == ["kept"]


def test_a_file_where_the_rows_folder_should_be_is_named_and_moved_aside(tmp_path, results):
    root = tmp_path / "res"
    (root / "s").mkdir(parents=True)
    (root / "s" / "rows").write_text("someone's notes")
    done, damaged = scan_rows(root, "s")
    assert done == set() and damaged[0].relpath == "s/rows" and "a file where the rows folder" in damaged[0].problem
    from suite.run.guard.store import consequence, set_aside

    assert consequence(damaged[0]) == "the folder will be made again where it stood"
    moved = set_aside(str(root), "s")  # what a driver does before it plans
    assert [Path(d.moved_to).read_text() for d in moved if d.relpath == "s/rows"] == ["someone's notes"]
    write_trial(root, "s", results[0])
    assert scan_rows(root, "s") == ({results[0].config_hash}, [])


def test_the_plan_and_the_report_name_non_files_at_store_paths(tmp_path, results):
    from suite.analysis.writing import write_report
    from suite.run.plan import make_plan
    from suite.run.summary import damaged_lines
    from suite.sweep.parsing import parse_spec

    spec = parse_spec({"name": "s", "model": "lenet300", "dataset": "synthetic", "train": {"epochs": 1},
                       "seeds": [0, 1], "methods": {"dense": {}}}, "spec.yaml")
    root, _ = _store(tmp_path, results[1:])
    (root / table_path("s", "rows", results[0].config_hash)).mkdir()
    (root / "s" / "history" / "0123456789abcdef.parquet").mkdir()
    plan = make_plan(spec, str(root))
    named = {d.relpath: d.problem for d in plan.damaged}
    assert named == {table_path("s", "rows", results[0].config_hash): "a directory where a file should be",
                     "s/history/0123456789abcdef.parquet": "a directory where a file should be"}
    assert len(plan.todo) == 1 and all("a directory where a file should be" in line for line in damaged_lines(plan))
    write_report(root, "s", tmp_path / "rep", tables=["compression"], plots=[])
    index = (tmp_path / "rep" / "index.md").read_text()
    assert f"{results[0].config_hash}.parquet: a directory where a file should be" in index


def test_an_unreadable_rows_file_is_an_error_naming_it_never_damage(tmp_path, results, monkeypatch):
    root, paths = _store(tmp_path, results)
    original = Path.read_bytes

    def denied(self):
        if self.name == paths[0].name and self.parent.name == "rows":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(StoreReadError, match=f"{paths[0]}: cannot be read .*not damage"):
        scan_rows(root, "s")
    with pytest.raises(StoreReadError):
        quarantine_damaged(root, "s")
    assert paths[0].exists() and not (root / "s" / "damaged").exists()  # the colleague's result stays

    from typer.testing import CliRunner

    from suite.cli.main import app

    got = CliRunner().invoke(app, ["report", "s", "--results", str(root), "--out", str(tmp_path / "rep")])
    assert got.exit_code == 2 and isinstance(got.exception, SystemExit), got.exception
    assert "Permission denied" in got.output and paths[0].name in got.output and "Traceback" not in got.output


def _rewrite(path: Path, change) -> None:
    table = pq.read_table(path)
    pq.write_table(change(table), path)


def _retype(table: pa.Table, name: str, new_type) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, pa.field(name, new_type), table.column(name).cast(new_type))


def test_lossless_type_differences_are_read_not_quarantined(tmp_path, results):
    root, paths = _store(tmp_path, results)
    _rewrite(paths[0], lambda t: _retype(_retype(_retype(t, "seed", pa.int32()), "created_at",
                                                 pa.timestamp("ns", tz="UTC")), "method", pa.large_string()))
    frame = pd.read_parquet(paths[1])
    frame.to_parquet(paths[1])  # a pandas re-save: depth (all null) and threads may change type
    done, damaged = scan_rows(root, "s")
    assert damaged == [] and done == {r.config_hash for r in results}
    rows = load_sweep(root, "s").rows
    assert rows["seed"].dtype == "int64" and sorted(rows["seed"]) == [0, 1]
    # A difference that changes values (a fractional seed) or kinds (text where a number goes) is still damage.
    _rewrite(paths[0], lambda t: _retype(t, "test_acc", pa.string()))
    assert "does not convert" in scan_rows(root, "s")[1][0].problem


def test_a_rows_file_counts_only_when_its_config_rehashes_to_its_name(tmp_path, results):
    root, paths = _store(tmp_path, results)
    other = TrialConfig(**CFG, seed=7).config_hash
    misplaced = paths[0].parent / f"{other}.parquet"
    _rewrite(paths[0], lambda t: t.set_column(t.schema.get_field_index("config_hash"), "config_hash",
                                              pa.array([other] * t.num_rows)))
    paths[0].rename(misplaced)  # content of seed 0 under seed 7's name, config_hash column rewritten
    done, damaged = scan_rows(root, "s")
    assert done == {results[1].config_hash}
    assert f"hashes to '{results[0].config_hash}', not '{other}'" in damaged[0].problem
    _rewrite(paths[1], lambda t: t.set_column(t.schema.get_field_index("config_json"), "config_json",
                                              pa.array(["{not json"] * t.num_rows)))
    assert {d.problem for d in scan_rows(root, "s")[1]} >= {"its config_json is not JSON (JSONDecodeError)"}
    write_trial(root, "s", results[1])
    _rewrite(paths[1], lambda t: t.set_column(t.schema.get_field_index("data_sources"), "data_sources",
                                              pa.array(["[1, 2]"] * t.num_rows)))
    assert "its data_sources '[1, 2]' is not a JSON object" in scan_rows(root, "s")[1][-1].problem


def test_non_finite_values_are_refused_at_write_and_flagged_at_read(tmp_path, results):
    root = tmp_path / "res"
    bad = dataclasses.replace(results[0], rows=[{**results[0].rows[0], "test_acc": math.nan}])
    with pytest.raises(UnstorableResult, match="test_acc = nan; allowed: a finite number"):
        write_trial(root, "s", bad)
    assert not (root / "s").exists()  # nothing written
    # What a trial can produce is stored: a diverged trial's NaN losses, an empty network's infinite ratio.
    diverged = {**results[0].rows[0], "status": "diverged", "test_loss": math.nan, "train_loss": math.nan,
                "l2_norm": math.nan}
    collapsed = {**results[1].rows[0], "status": "collapsed", "compression_ratio": math.inf, "nonzero_params": 0}
    for rows, r in (([diverged], results[0]), ([collapsed], results[1])):
        write_trial(root, "s", TrialResult(rows, r.layers, r.history))
    assert scan_rows(root, "s") == ({r.config_hash for r in results}, [])
    # A file another writer made with an infinite accuracy is flagged (not counted, named) when read.
    path = root / table_path("s", "rows", results[1].config_hash)
    _rewrite(path, lambda t: t.set_column(t.schema.get_field_index("test_acc"), "test_acc",
                                          pa.array([math.inf] * t.num_rows)))
    assert "test_acc = inf" in scan_rows(root, "s")[1][0].problem
    with pytest.raises(UnstorableResult, match="test_loss = nan.*NaN only in a diverged trial"):
        write_trial(root, "s", TrialResult([{**results[0].rows[0], "test_loss": math.nan}], [], []))


def test_stored_records_of_the_wrong_shape_are_named_and_set_aside(tmp_path, results):
    from suite.run.guard.store import set_aside

    root, paths = _store(tmp_path, results)
    lr = root / "s" / "lr_search" / "dwf_D2_abc.json"
    lr.parent.mkdir(parents=True)
    lr.write_text(json.dumps({"learning_rate": 0.1, "search": []}))
    with pytest.raises(DamagedRecord, match="not a lr_search record: its 'lr' must be a finite number > 0"):
        read_record(root, "s/lr_search/dwf_D2_abc.json")
    failed = root / "s" / "failed" / "abc.json"
    failed.parent.mkdir()
    failed.write_text(json.dumps(["an", "array"]))
    (root / "s" / "failed" / "def.json").write_text(json.dumps({"config_hash": "def", "config": 3, "error": "x"}))
    records, damaged = load_failures_checked(root, "s")
    assert records == [] and sorted(d.problem[:30] for d in damaged) == ["not a JSON object (a list)",
                                                                          "not a failed record: its 'conf"]
    _rewrite(paths[0], lambda t: t.drop(["model"]))  # a rows file without `model`
    assert "lacks column(s) ['model']" in scan_rows(root, "s")[1][0].problem
    moved = {d.relpath for d in set_aside(str(root), "s")}
    assert moved == {"s/lr_search/dwf_D2_abc.json", "s/failed/abc.json", "s/failed/def.json",
                     table_path("s", "rows", results[0].config_hash)}
    write_report_ok(root, tmp_path)


def write_report_ok(root: Path, tmp_path: Path) -> None:
    from suite.analysis.writing import write_report

    write_report(root, "s", tmp_path / "rep", tables=["compression"], plots=[])
    assert "1 result rows from 1 trials" in (tmp_path / "rep" / "index.md").read_text()


def test_an_interrupted_report_leaves_the_old_one_as_it_was(tmp_path, results, monkeypatch):
    from suite.analysis import writing

    root, _ = _store(tmp_path, results)
    out = tmp_path / "rep"
    writing.write_report(root, "s", out, tables=["compression"], plots=[])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    write_trial(root, "s", results[0])  # the store changes, then the next report is interrupted at its index

    def interrupted(path, text):
        if path.name == "index.md":
            raise KeyboardInterrupt
        return original(path, text)

    original = writing._write_text
    monkeypatch.setattr(writing, "_write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        writing.write_report(root, "s", out, tables=["compression", "accuracy"], plots=[])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no new file under the old index
    monkeypatch.setattr(writing, "_write_text", original)
    written = writing.write_report(root, "s", out, tables=["compression", "accuracy"], plots=[])
    assert all(p.parent == out for p in written) and (out / "accuracy.md").exists()
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []  # the interrupted one's removed


def test_a_dense_run_record_of_the_wrong_shape_is_set_aside_and_the_run_trained_again(tmp_path):
    cache = CheckpointCache(tmp_path)
    record = tmp_path / "checkpoints" / "0123456789abcdef.json"
    record.parent.mkdir()
    record.write_text(json.dumps({"state": "diverged"}))  # valid JSON, wrong keys
    with pytest.warns(UserWarning, match="damaged dense-run record.*its 'status' must be a status other than ok"):
        assert cache.outcome("0123456789abcdef") is None
    assert not record.exists() and len(list((tmp_path / "checkpoints" / "damaged").rglob("*.json"))) == 1


def test_a_rows_folder_that_cannot_be_listed_is_a_named_error_of_sweep_dry_run(tmp_path, results, monkeypatch):
    from typer.testing import CliRunner

    from suite.cli.main import app

    root, paths = _store(tmp_path, results)
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\nmodel: lenet300\ndataset: synthetic\ntrain: {epochs: 1}\nmethods: {dense: {}}\n")
    original = Path.iterdir

    def denied(self):
        if self == paths[0].parent:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "iterdir", denied)
    got = CliRunner().invoke(app, ["sweep", str(spec), "--dry-run", "--results", str(root)],
                             env={"BENCH_COMPILE": "0"})
    assert got.exit_code == 2 and not isinstance(got.exception, PermissionError), got.exception
    said = " ".join(got.output.split())
    assert f"{root}/s/rows: cannot be read (PermissionError: Permission denied); it is not damage" in said
