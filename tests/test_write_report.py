"""write_report and `bench report` on the hand-made sweep of hand_made_sweep.py, written as a store."""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd
import pytest

from suite.analysis import tables, writing
from suite.analysis.training_length import UnknownEpochsError, select_epochs
from suite.results.store import TrialResult, load_sweep, write_failure, write_trial


def _write_store(root, rows: pd.DataFrame, layers: pd.DataFrame, history: pd.DataFrame) -> None:
    """Rows and side tables written as the trials of sweep 't' under root."""
    by_trial: dict[str, TrialResult] = defaultdict(lambda: TrialResult(rows=[]))
    for record in rows.to_dict("records"):
        record = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}
        by_trial[record["config_hash"]].rows.append(record)
    for record in layers.to_dict("records"):
        by_trial[record["config_hash"]].layers.append(record)
    for record in history.to_dict("records"):
        by_trial[record["config_hash"]].history.append(record)
    for result in by_trial.values():
        write_trial(root, "t", result)


@pytest.fixture(scope="module")
def store(tmp_path_factory, rows, layers, history):
    """The hand-made sweep written as a store (sweep 't') with one failed trial."""
    root = tmp_path_factory.mktemp("store") / "results"
    _write_store(root, rows, layers, history)
    write_failure(root, "t", "deadbeef", {"method": "snip", "model": "lenet300", "seed": 0},
                  "Traceback\nRuntimeError: boom")
    return root


def _index_section(index: str, heading: str) -> list[str]:
    """The non-empty lines under '## heading' of index.md, up to the next heading."""
    lines = index.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0].splitlines()
    return [line for line in lines if line.strip()]


def test_write_report_writes_everything(tmp_path, store):
    out = tmp_path / "report"
    written = writing.write_report(store, "t", out, eps=(5, 10), expected_methods=["dense", "dwf", "snip", "gmp"])
    names = {p.name for p in written}
    expected = {f"{t}.{ext}" for t in ("compression", "accuracy") for ext in ("md", "csv", "tex")}
    expected |= {f"{f}.{ext}" for f in ("pareto", "layers_lenet300_fmnist", "dynamics_lenet300_fmnist")
                 for ext in ("png", "pdf")}
    assert expected | {"index.md", "index.html"} == names
    assert all(p.exists() and p.stat().st_size > 0 for p in written)
    index = (out / "index.md").read_text()
    assert _index_section(index, "Failed trials") == ["- `deadbeef` method=snip, model=lenet300, seed=0: "
                                                      "Traceback RuntimeError: boom"]
    # Judged against the methods the sweep asked for: snip failed, nothing else missing
    # (spred, pilot, random... were never asked for, so they are not flagged).
    assert _index_section(index, "Missing methods") == ["snip"]
    # No layers or history for lenet5/mnist: said so, not drawn; the store check names the trials.
    lenet5 = "lenet5-mnist-dense-None-None-None-s0, lenet5-mnist-dense-None-None-None-s1, " \
             "lenet5-mnist-dense-None-None-None-s2, lenet5-mnist-gmp-None-None-10-s0"
    notes = _index_section(index, "Notes")
    assert len(notes) == 4 and notes[3].startswith("- 16 trial(s) lack their history table")
    assert notes[:3] == [
        "- layers: no per-layer counts near the chosen compression ratios for lenet5/mnist",
        "- dynamics: no training history of the default method for lenet5/mnist",
        f"- 4 trial(s) lack their layers table, so they are missing from the figures that use it: {lenet5}"]
    assert "- compression: [md](compression.md) · [csv](compression.csv) · [tex](compression.tex)" in index
    assert "![pareto](pareto.png)" in index
    assert "Trials against the sweep spec's full grid" not in index  # not given: not claimed
    unjudged = (writing.write_report(store, "t", tmp_path / "r2", tables=(), plots=()))[-1].read_text()
    assert _index_section(unjudged, "Missing methods")[0].startswith("Not judged")
    csv = pd.read_csv(out / "compression.csv")
    assert csv.set_index(["model", "label"]).loc[("lenet300", "DWF (D=3)"), "cr@5"] == pytest.approx(200)


def test_write_report_writes_the_absolute_table_when_asked(tmp_path, store):
    out = tmp_path / "report"
    written = writing.write_report(store, "t", out, tables=(), plots=(), absolute_thresholds=(0.85, 0.80))
    assert [p.name for p in written] == [f"{writing.ABSOLUTE_TABLE_NAME}.{ext}" for ext in ("md", "csv", "tex")] + [
        "index.html", "index.md"]
    csv = pd.read_csv(out / "compression_absolute.csv").set_index(["model", "label"])
    assert csv.loc[("lenet300", "DWF (D=3)"), ["cr@85%", "cr@80%"]].tolist() == pytest.approx([200, 400])
    assert tables.COMPRESSION_ABSOLUTE_CAPTION.split(".")[0] in (out / "compression_absolute.md").read_text()
    assert "| Method | acc. ≥ 85% | acc. ≥ 80% |" in (out / "compression_absolute.md").read_text()
    with pytest.raises(ValueError, match="fractions"):
        writing.write_report(store, "t", tmp_path / "bad", tables=(), plots=(), absolute_thresholds=(85,))
    assert not (tmp_path / "bad").exists()


def test_missing_methods_keeps_the_specs_order(rows):
    assert writing.missing_methods(rows, ["snip", "dwf", "random", "dense"]) == ["snip", "random"]
    assert writing.missing_methods(rows.iloc[0:0], ["dwf"]) == ["dwf"]


def test_write_report_rejects_unknown_names(tmp_path):
    with pytest.raises(ValueError, match=r"unknown table\(s\) \['nope'\]; allowed: \['compression', "
                                         r"'compression_absolute', 'accuracy'\]"):
        writing.write_report(tmp_path, "t", tmp_path / "o", tables=("nope",))
    with pytest.raises(ValueError, match=r"unknown plot\(s\) \['p'\]; allowed"):
        writing.write_report(tmp_path, "t", tmp_path / "o", plots="p")
    with pytest.raises(ValueError, match="compression_absolute needs absolute accuracy thresholds"):
        writing.write_report(tmp_path, "t", tmp_path / "o", tables="compression_absolute")


def test_bench_report_judges_missing_methods_by_the_sweeps_spec(tmp_path):
    """`bench report smoke`: the smoke spec asks for dense, dwf, gmp and snip; with only
    dense stored, exactly the other three are missing (not spred, pilot, ...)."""
    from typer.testing import CliRunner

    from suite.cli.main import app
    from suite.config import TrialConfig
    from suite.train import run_trial

    write_trial(tmp_path, "smoke", run_trial(TrialConfig(model="lenet300", dataset="synthetic", method="dense",
                                                         epochs=1, sweep="smoke")))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "smoke", "--results", str(tmp_path), "--out", str(out),
                                      "--table", "compression"])
    assert result.exit_code == 0, result.output
    assert _index_section((out / "index.md").read_text(), "Missing methods") == ["dwf, gmp, snip"]


def test_the_index_sets_the_trials_against_the_full_grid(tmp_path, store):
    writing.write_report(store, "t", tmp_path, tables=["accuracy"], plots=[], grid_trials=100)
    index = (tmp_path / "index.md").read_text()
    first = index.splitlines()[2]
    n_trials = int(first.split(" trials;")[0].split()[-1])
    assert (f"Trials against the sweep spec's full grid: {n_trials} of 100 ({n_trials}%); "
            "learning-rate search trials are stored apart (t/lr_search) and counted in neither.") in index


def test_the_index_says_when_a_search_used_more_trials_than_the_grid(tmp_path, store):
    writing.write_report(store, "t", tmp_path, tables=["accuracy"], plots=[], grid_trials=1)
    index = (tmp_path / "index.md").read_text()
    n_trials = int(index.splitlines()[2].split(" trials;")[0].split()[-1])
    assert n_trials > 1
    assert (f"Trials against the sweep spec's full grid: {n_trials}, more than its 1 (adaptive searches add "
            "values between its points); learning-rate search trials") in index


def test_a_report_of_one_training_length_leaves_a_quick_look_out(tmp_path, rows, layers, history):
    """A quick look (2 epochs) and the full protocol (5 here) in one store: read whole, the
    report says so; with epochs=5 its tables are those of the full protocol alone; an epoch
    count no trial has is an error that names the counts there are, before anything is written."""
    quick = rows.assign(epochs=2, config_hash=rows["config_hash"] + "-quick")
    quick.loc[quick["method"] == "dwf", "test_acc"] = 0.95  # a quick look that would win every DWF cell
    root = tmp_path / "results"
    _write_store(root, pd.concat([rows, quick], ignore_index=True), layers, history)
    mixed = tmp_path / "mixed"
    writing.write_report(root, "t", mixed, tables=["compression"], plots=[])
    notes = _index_section((mixed / "index.md").read_text(), "Notes")
    n = rows["config_hash"].nunique()
    assert notes[0] == (f"- trials of different training lengths: 2 epochs ({n} trials), 5 epochs ({n} trials); "
                        "every table and figure picks across them; `bench report --epochs 5` reads one length")
    full, alone = tmp_path / "full", tmp_path / "alone"
    writing.write_report(root, "t", full, tables=["compression"], plots=["layers"], epochs=5)
    full_notes = _index_section((full / "index.md").read_text(), "Notes")
    assert full_notes[0] == (f"- --epochs 5: left out {n} trial(s) of other or unrecorded lengths "
                             "and 0 failed trial(s) of other lengths")
    assert not any("different training lengths" in note for note in full_notes)
    only_full = tmp_path / "only_full"
    _write_store(only_full, rows, layers, history)
    writing.write_report(only_full, "t", alone, tables=["compression"], plots=[])
    assert (full / "compression.csv").read_text() == (alone / "compression.csv").read_text()
    assert (mixed / "compression.csv").read_text() != (alone / "compression.csv").read_text()
    with pytest.raises(UnknownEpochsError, match="no trial of this sweep trained for 3 epochs; allowed: 2, 5"):
        writing.write_report(root, "t", tmp_path / "bad", epochs=3)
    assert not (tmp_path / "bad").exists()


def test_bench_report_rejects_an_epoch_count_the_store_lacks(tmp_path, store):
    from typer.testing import CliRunner

    from suite.cli.main import app

    result = CliRunner().invoke(app, ["report", "t", "--results", str(store), "--out", str(tmp_path / "o"),
                                      "--epochs", "75"])
    assert result.exit_code == 2
    assert "--epochs 75: no trial of this sweep trained for 75 epochs; allowed: 5" in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()


def test_a_store_that_records_no_training_length_is_reported_whole(tmp_path, rows, layers, history):
    """Hand-made or older row files may lack the epochs column: the report reads them as before
    (no note), and --epochs says that no row records a length."""
    root = tmp_path / "results"
    _write_store(root, rows.drop(columns=["epochs"]), layers, history)
    written = writing.write_report(root, "t", tmp_path / "out", tables=["compression"], plots=[])
    assert "training length" not in written[-1].read_text()
    with pytest.raises(UnknownEpochsError, match=r"allowed: none \(no result row records its training length\)"):
        writing.write_report(root, "t", tmp_path / "bad", epochs=5)


def test_selecting_a_length_keeps_failures_that_record_none(store):
    data = load_sweep(store, "t")  # its one failure's config has no epochs: it may be of either length
    selected, _ = select_epochs(data, 5)
    assert [f["config_hash"] for f in selected.failures] == ["deadbeef"]


def test_a_table_with_nothing_to_show_says_so_on_the_console_beside_its_note(tmp_path, rows, layers, history):
    """No dense rows: the compression table leaves every section out. The console says why, above the
    table, and prints 'no results' instead of empty tables titled by their column names."""
    import io

    from rich.console import Console

    no_dense = rows[rows["method"] != "dense"]
    root = tmp_path / "results"
    kept = set(no_dense["config_hash"])
    _write_store(root, no_dense, layers[layers["config_hash"].isin(kept)], history[history["config_hash"].isin(kept)])
    out = io.StringIO()
    writing.write_report(root, "t", tmp_path / "report", tables=["compression"], plots=[],
                         console=Console(file=out, width=120, color_system=None))
    lines = out.getvalue().splitlines()
    left_out = lines.index("note: compression table: lenet300/fmnist left out, it has no dense rows (no ε reference)")
    assert lines[left_out + 2] == "t: compression: no results" and "Model" not in out.getvalue()


def _search(title: str, status: str, **extra) -> dict:
    return {"search": title, "method": "dwf", "depth": 3, "cell": title.split()[-1], "axis": "lam",
            "status": status, "settled": status != "running", "trials_stored": 6, "lr_searched": True,
            "where": f"{title}: λ [0.003, 0.004] · cell 0.003", **extra}


def test_the_index_says_when_every_adaptive_search_has_settled(tmp_path, store):
    settled = [_search(f"dwf D=3 ε={e}", "resolved") for e in (5, 10)] + [_search("dwf D=3 CR≥100", "axis")]
    writing.write_report(store, "t", tmp_path / "a", tables=["accuracy"], plots=[], searches=settled)
    assert _index_section((tmp_path / "a" / "index.md").read_text(), "Adaptive searches") == [
        "All 3 searches have settled: the tables hold the adaptive run's final cells. Every search, its state "
        "and where it stands: [searches.csv](searches.csv)."]
    writing.write_report(store, "t", tmp_path / "g", tables=["accuracy"], plots=[])  # a grid: no such section
    assert "## Adaptive searches" not in (tmp_path / "g" / "index.md").read_text()
    assert not (tmp_path / "g" / writing.SEARCHES_FILE).exists()


def test_the_searches_file_holds_every_search_and_the_index_lists_the_open_ones(tmp_path, store):
    searches = [_search("dwf D=3 ε=5", "resolved"), _search("dwf D=3 ε=10", "running"),
                _search("dwf D=4 ε=10", "running", lr_searched=False)]
    written = writing.write_report(store, "t", tmp_path, tables=["accuracy"], plots=[], searches=searches)
    assert tmp_path / writing.SEARCHES_FILE in written
    stored = pd.read_csv(tmp_path / writing.SEARCHES_FILE)
    assert tuple(stored.columns) == writing.SEARCH_COLUMNS
    assert stored["settled"].tolist() == [True, False, False] and stored["status"].tolist()[0] == "resolved"
    section = _index_section((tmp_path / "index.md").read_text(), "Adaptive searches")
    assert section[0].startswith("1 of 3 searches have settled. Still open")
    assert section[-1] == "Every search, its state and where it stands: [searches.csv](searches.csv)."
    assert section[1:-1] == ["- dwf D=3 ε=10: λ [0.003, 0.004] · cell 0.003 · 6 trial(s) stored",
                           "- dwf D=4 ε=10: λ [0.003, 0.004] · cell 0.003 · 6 trial(s) stored · lr auto: not "
                           "searched yet"]


def test_a_rewritten_report_has_the_same_pdf_bytes(tmp_path, store, monkeypatch):
    """No creation date in the PDFs: a committed report changes only where its content does
    (the two writes happen a day apart, as matplotlib's clock sees it)."""
    for out, epoch in (("a", "1700000000"), ("b", "1700086400")):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        writing.write_report(store, "t", tmp_path / out, tables=[], plots=["pareto"])
    assert (tmp_path / "a" / "pareto.pdf").read_bytes() == (tmp_path / "b" / "pareto.pdf").read_bytes()


def test_a_grid_report_removes_an_earlier_searches_file_and_no_searches_are_said(tmp_path, store):
    writing.write_report(store, "t", tmp_path, tables=["accuracy"], plots=[],
                         searches=[_search("dwf D=3 ε=5", "running")])
    assert (tmp_path / writing.SEARCHES_FILE).exists()
    writing.write_report(store, "t", tmp_path, tables=["accuracy"], plots=[])  # rewritten as a grid's report
    assert not (tmp_path / writing.SEARCHES_FILE).exists()
    writing.write_report(store, "t", tmp_path, tables=["accuracy"], plots=[], searches=[])
    assert _index_section((tmp_path / "index.md").read_text(), "Adaptive searches") == [
        "No adaptive searches for these methods."]


def test_a_table_read_alone_says_it_left_out_configurations_on_fewer_seeds(tmp_path, rows, layers, history):
    """With complete_only (a shared search's report), a one-seed point never becomes a cell, and every
    table's caption says so, not only the index: a caption pasted into a paper must not hide it."""
    one = (rows["method"] == "dwf") & (rows["depth"] == 3) & (rows["lam"] == 0.001) & (rows["seed"] == 0)
    probe = rows[one].assign(lam=0.0015, config_hash="probe-one-seed", compression_ratio=1000.0,
                             nonzero_params=100, test_acc=0.9)
    root = tmp_path / "results"
    _write_store(root, pd.concat([rows, probe], ignore_index=True), layers, history)
    kept, whole = tmp_path / "kept", tmp_path / "whole"
    writing.write_report(root, "t", kept, tables=["compression", "accuracy"], plots=[], complete_only=True)
    writing.write_report(root, "t", whole, tables=["compression", "accuracy"], plots=[])
    # Two: the probe, and the hand-made sweep's one-seed GMP configuration of lenet5/mnist.
    for name in ("compression.md", "accuracy.md", "compression.tex"):
        assert "configurations on fewer seeds than their section's most left out (2)" in (kept / name).read_text()
        assert "left out (" not in (whole / name).read_text()
    cr = pd.read_csv(kept / "compression.csv").set_index(["model", "label"]).loc[("lenet300", "DWF (D=3)"), "cr@5"]
    assert cr < 1000  # the probe (CR 1000 at 90%) would be the cell, were it allowed to
    probe_cr = pd.read_csv(whole / "compression.csv").set_index(["model", "label"]).loc[("lenet300", "DWF (D=3)")]
    assert probe_cr["cr@5"] == pytest.approx(1000)
