"""Table 1: the compression reached at ε or at absolute accuracy thresholds, and its display.

On the hand-made sweep of hand_made_sweep.py (its docstring: the float boundaries).
"""

from __future__ import annotations

import hand_made_sweep as sweep
import pandas as pd
import pytest

from suite.analysis import configurations, rendering, tables


def test_compression_table_picks_expected_cells(rows):
    table = tables.compression_table(rows, eps=(5, 10))
    a = sweep.cells(table, "lenet300", "fmnist")
    assert list(a.index) == ["Dense", "DWF (D=2)", "DWF (D=3)", "Vanilla L1", "L1 + GMP", "GMP", "SynFlow"]
    assert a.loc["Dense", "dense_acc"] == pytest.approx(0.90)
    assert a.loc["Dense", "cr@5"] == pytest.approx(1.0)
    # The config exactly at the boundary (median .85) qualifies; the sparser one
    # 1e-4 below it (CR 333) does not.
    assert a.loc["DWF (D=3)", "cr@5"] == pytest.approx(200)
    assert a.loc["DWF (D=3)", "sparsity@5"] == pytest.approx(0.995)
    assert a.loc["DWF (D=3)", "lam@5"] == pytest.approx(1e-3)
    assert a.loc["DWF (D=3)", "n_seeds@5"] == 3
    # Tie at CR 400 goes to the more accurate configuration.
    assert a.loc["DWF (D=3)", "cr@10"] == pytest.approx(400)
    assert a.loc["DWF (D=3)", "acc@10"] == pytest.approx(0.849)
    assert a.loc["DWF (D=3)", "lam@10"] == pytest.approx(3e-3)
    assert a.loc["GMP", "cr@5"] == pytest.approx(100) and a.loc["GMP", "cr@10"] == pytest.approx(100)
    assert a.loc["Vanilla L1", "cr@5"] == pytest.approx(20)
    assert a.loc["L1 + GMP", "cr@10"] == pytest.approx(50)
    assert a.loc["SynFlow", "cr@10"] == pytest.approx(sweep.TOTAL / 1001)
    # Empty stays empty (NaN / NA), never 0.
    assert pd.isna(a.loc["SynFlow", "cr@5"]) and pd.isna(a.loc["SynFlow", "n_seeds@5"])
    assert a.loc[["DWF (D=2)"], ["cr@5", "cr@10", "sparsity@5", "acc@10"]].isna().all().all()
    assert "SNIP" not in a.index and "Random" not in a.index


def test_compression_table_sections_and_absent_methods(rows):
    b = sweep.cells(tables.compression_table(rows), "lenet5", "mnist")
    assert b.loc["Dense", "dense_acc"] == pytest.approx(0.99)
    assert b.loc["GMP", "cr@5"] == pytest.approx(10) and b.loc["GMP", "n_seeds@5"] == 1
    assert b.loc["DWF (D=3)", ["cr@5", "cr@10"]].isna().all()  # run in the sweep, not in this section


def test_compression_table_without_dense(rows):
    mixed = pd.concat([rows, _orphan()], ignore_index=True)
    assert configurations.sections_without_dense(mixed) == [("lenet5", "kmnist")]
    with pytest.raises(tables.MissingDenseError, match="lenet5/kmnist"):
        tables.compression_table(mixed)
    skipped = tables.compression_table(mixed, missing_dense="skip")
    assert "kmnist" not in set(skipped["dataset"]) and len(skipped) == len(tables.compression_table(rows))
    with pytest.raises(ValueError, match="missing_dense 'drop': allowed: 'raise', 'skip'"):
        tables.compression_table(mixed, missing_dense="drop")


def _orphan() -> pd.DataFrame:
    """One GMP result in a section without dense rows."""
    return pd.DataFrame([sweep.row("gmp", 0, 0.9, 1000, target=100, point="final", model="lenet5", dataset="kmnist")])


def test_compression_table_at_absolute_thresholds(rows):
    """At 85% and 80% absolute, lenet300/fmnist (dense median 90%) gets the cells of
    ε = 5 and 10: the same cell rules, only the thresholds and column names differ."""
    absolute = tables.compression_table(rows, absolute=(0.85, 0.80))
    assert list(absolute.columns) == tables.compression_columns(absolute=(0.85, 0.80))
    assert [c for c in absolute.columns if c.startswith("cr@")] == ["cr@85%", "cr@80%"]
    by_eps = sweep.cells(tables.compression_table(rows, eps=(5, 10)), "lenet300", "fmnist")
    a = sweep.cells(absolute, "lenet300", "fmnist")
    renamed = a.rename(columns=lambda c: c.replace("@85%", "@5").replace("@80%", "@10"))
    pd.testing.assert_frame_equal(renamed, by_eps)
    # Thresholds do not follow the dense model: at 95%, lenet300/fmnist (dense 90%)
    # has no qualifying configuration, dense included; lenet5/mnist (dense 99%) has.
    high = tables.compression_table(rows, absolute=(0.95,))
    assert sweep.cells(high, "lenet300", "fmnist")["cr@95%"].isna().all()
    b = sweep.cells(high, "lenet5", "mnist")
    assert b.loc["Dense", "cr@95%"] == pytest.approx(1.0) and b.loc["GMP", "cr@95%"] == pytest.approx(10)
    assert b.loc["Dense", "dense_acc"] == pytest.approx(0.99)


def test_absolute_thresholds_keep_sections_without_dense(rows):
    mixed = pd.concat([rows, _orphan()], ignore_index=True)
    kmnist = sweep.cells(tables.compression_table(mixed, absolute=(0.85,)), "lenet5", "kmnist")
    assert kmnist.loc["GMP", "cr@85%"] == pytest.approx(100)
    assert kmnist["dense_acc"].isna().all() and pd.isna(kmnist.loc["Dense", "cr@85%"])


def test_absolute_threshold_columns_and_bad_input(rows):
    assert tables.compression_columns(absolute=tables.PAPER_FMNIST_LENET300_THRESHOLDS)[5::8] == [
        "cr@84.12%", "cr@79.12%"]
    with pytest.raises(ValueError, match="not both"):
        tables.compression_table(rows, eps=(5,), absolute=(0.85,))
    for bad in ((84.12,), (0.0,), (), (float("nan"),), (True,)):
        with pytest.raises(ValueError, match=r"fractions in \(0, 1\]"):
            tables.compression_table(rows, absolute=bad)


def test_absolute_table_display(rows):
    display = rendering.format_compression_table(tables.compression_table(rows, absolute=(0.85, 0.80)))
    assert display.columns.tolist() == ["Model", "Dataset", "Method", "acc. ≥ 85%", "acc. ≥ 80%"]
    a = display[display["Model"] == "LeNet-300-100"].set_index("Method")
    assert a.loc["Dense"].tolist()[2:] == ["90.00% acc.", "90.00% acc."]
    assert a.loc["DWF (D=3)"].tolist()[2:] == ["200 (99.50%)", "400 (99.75%)"]
    eps_display = rendering.format_compression_table(tables.compression_table(rows, eps=(5,)))
    assert eps_display.columns.tolist()[3:] == ["ε = 5 pp"]
    assert eps_display.set_index("Method").loc["Dense", "ε = 5 pp"].tolist() == [
        "90.00% acc. (reference)", "99.00% acc. (reference)"]


def test_empty_input_gives_empty_frames():
    empty = pd.DataFrame(columns=["method", "model", "dataset"])
    table = tables.compression_table(empty, eps=(5,))
    assert table.empty and list(table.columns) == tables.compression_columns((5,))
    acc = tables.accuracy_table(empty)
    assert acc.empty and list(acc.columns) == tables.accuracy_columns()
    assert rendering.to_markdown(rendering.format_compression_table(table)) == "_No results._\n"
