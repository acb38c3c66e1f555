"""A report table and figure written outside the project (docs/examples/trials_table.py, the docs' "Add a
table" / "Add a figure" example) are offered, written, listed and helped by `bench report` like the
built-ins. Run through `bench` in a fresh process, so the plugin's entries never reach this one's registry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_write_report import _write_store

from bench_subprocess import bench

PLUGIN = Path(__file__).resolve().parents[1] / "docs" / "examples" / "trials_table.py"


@pytest.fixture(scope="module")
def store(tmp_path_factory, rows, layers, history):
    root = tmp_path_factory.mktemp("store") / "results"
    _write_store(root, rows, layers, history)
    return root


def test_the_help_lists_a_plugins_table_and_figure():
    done = bench("report", "--plugin", str(PLUGIN), "--help")
    assert done.returncode == 0, done.stdout + done.stderr
    text = " ".join(done.stdout.replace("│", " ").split())  # the help's wrapped lines as one text
    assert "trials: trials, seeds and best test accuracy per method" in text
    assert "accuracy_spread: every trial's test accuracy per method" in text
    assert "compression: paper Table 1" in text and "pareto: accuracy against compression" in text
    plain = " ".join(bench("report", "--help").stdout.replace("│", " ").split())
    assert "compression: paper Table 1" in plain and "trials:" not in plain


def test_bench_report_writes_a_plugins_table_and_figure(tmp_path, store, rows):
    out = tmp_path / "report"
    done = bench("report", "t", "--results", str(store), "--out", str(out), "--plugin", str(PLUGIN))
    assert done.returncode == 0, done.stdout + done.stderr
    written = {p.name for p in out.iterdir()}
    assert {"trials.md", "trials.csv", "trials.tex", "accuracy_spread.png", "accuracy_spread.pdf"} <= written
    assert {"compression.md", "accuracy.md", "pareto.png"} <= written  # the built-ins as before
    table = pd.read_csv(out / "trials.csv")
    assert table["trials"].sum() == rows["config_hash"].nunique()
    index = (out / "index.md").read_text()
    assert "- trials: [md](trials.md) · [csv](trials.csv) · [tex](trials.tex)" in index
    assert "![accuracy_spread](accuracy_spread.png)" in index
    assert "Trials per method" in (out / "index.html").read_text()  # its title in the page
    assert "t: trials" in done.stdout  # printed to the terminal like a built-in table


def test_a_plugins_table_alone_and_unknown_without_the_plugin(tmp_path, store):
    out = tmp_path / "alone"
    done = bench("report", "t", "--results", str(store), "--out", str(out), "--plugin", str(PLUGIN),
                 "--table", "trials")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.suffix for p in out.iterdir() if p.stem == "trials"} == {".md", ".csv", ".tex"}
    assert not (out / "compression.md").exists() and not (out / "pareto.png").exists()
    missing = bench("report", "t", "--results", str(store), "--out", str(tmp_path / "no"), "--table", "trials")
    assert missing.returncode == 2
    assert "--table trials not known; allowed: compression, compression_absolute, accuracy" in missing.stderr
