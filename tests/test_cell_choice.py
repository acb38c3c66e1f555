"""The tables' cells as typed choices (`CellChoice`): the same configurations the wide tables show, read
by field instead of by column name, as the adaptive search reads them."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from suite.analysis import tables
from suite.analysis.cell_choice import CellChoice


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b or (isinstance(a, float) and math.isclose(a, b))


def test_compression_choices_are_the_compression_tables_cells(rows):
    table = tables.compression_table(rows, eps=(5, 10)).set_index(["model", "dataset", "label"])
    chosen = tables.compression_choices(rows, eps=(5, 10))
    assert [(r.model, r.dataset, r.label) for r in chosen] == list(table.index)
    for row in chosen:
        wide = table.loc[(row.model, row.dataset, row.label)]
        assert _same(row.dense_acc, wide["dense_acc"]) and row.seeds == wide["seeds"]
        for key, cell in zip(("5", "10"), row.cells):
            assert _same(cell.compression_ratio, wide[f"cr@{key}"]) and _same(cell.lam, wide[f"lam@{key}"])
            assert cell.empty == pd.isna(wide[f"cr@{key}"])
    dwf = next(r for r in chosen if r.label == "DWF (D=3)" and r.dataset == "fmnist")
    assert dwf.cells[0].axis_value("lam") == pytest.approx(1e-3)  # the boundary point, as the table says


def test_accuracy_choices_are_the_accuracy_tables_cells(rows):
    table = tables.accuracy_table(rows, [0.9, 0.99]).set_index(["model", "dataset", "label"])
    for row in tables.accuracy_choices(rows, [0.9, 0.99]):
        wide = table.loc[(row.model, row.dataset, row.label)]
        for key, cell in zip(("0.9", "0.99"), row.cells):
            assert _same(cell.accuracy_mean, wide[f"mean@{key}"])
            assert _same(cell.target_compression, wide[f"target@{key}"])


def test_an_empty_choice_has_no_axis_value():
    empty = CellChoice.of(None)
    assert empty.empty and empty.axis_value("lam") is None and empty.axis_value("compression") is None
    with pytest.raises(ValueError, match="allowed"):
        empty.axis_value("depth")
