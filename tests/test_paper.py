"""The paper side by side (suite.analysis.paper): verdicts by the fidelity tolerances."""

import pandas as pd

from hand_made_sweep import seeds
from suite.analysis.intervals import accuracy_intervals, compression_intervals
from suite.analysis.paper import accuracy_lines, compression_lines, side_by_side, within_accuracy
from suite.analysis.tables import accuracy_table, compression_table, threshold_rules
from suite.sweep.paper_spec import parse_paper


def _rows() -> pd.DataFrame:
    rows = seeds("dense", [0.90, 0.90, 0.90], 100_000)
    rows += seeds("snip", [0.88, 0.88, 0.80], 1_000, target=100.0)
    rows += seeds("snip", [0.86, 0.80, 0.80], 500, target=200.0)
    return pd.DataFrame(rows)


def test_accuracy_tolerance_is_two_points_or_std_plus_one():
    assert within_accuracy(87.0, 85.0, 0.5) and not within_accuracy(87.01, 85.0, 0.5)
    assert within_accuracy(80.0, 85.0, 4.0) and not within_accuracy(79.9, 85.0, 4.0)


def test_side_by_side_judges_each_cell():
    rows = _rows()
    paper = parse_paper({"source": "test", "compression": {"SNIP": {5: 130, 10: 500}},
                         "accuracy": {"Dense": [[90.0, 0.1]], "SNIP": [[85.0, 1.0], [70.0, 0.5]]},
                         "levels": [100, 200]})
    table1 = compression_intervals(compression_table(rows, [5, 10]), rows, threshold_rules([5, 10]),
                                   paper.references())
    line = next(line for line in compression_lines(table1, paper) if line.startswith("| SNIP"))
    # ε=5: ours 100 vs 130 is 23% off: yes, and the cell is 100 in 13 of 27 resamples;
    # ε=10: ours 200 (median 0.80 >= 0.80) vs 500: no.
    assert line.startswith("| SNIP | 100 [100–200] | 130 | yes (p 0.48) | 200 [") and "| 500 | **no**" in line
    table2 = accuracy_intervals(accuracy_table(rows, [0.99, 0.995]), rows)
    snip = next(line for line in accuracy_lines(table2, paper) if line.startswith("| SNIP"))
    # 99%: 85.33 vs 85.00 within; 99.5%: 82.00 vs 70.00 outside.
    assert "85.33 ± 4.62 / 85.00 |" in snip and "82.00 ± 3.46 / 70.00 **✗**" in snip
    text = side_by_side(table1, table2, paper, "5 epochs, seeds 0, 1, 2; data fmnist x")
    assert "Paper: test." in text and "Ours: 5 epochs" in text


def test_the_paper_is_set_beside_its_own_section_only():
    """A store with several (model, dataset) sections: the paper's numbers belong to the spec's section."""
    rows = _rows()
    other = _rows().assign(dataset="mnist", config_hash=lambda f: f["config_hash"] + "-mnist",
                           test_acc=lambda f: f["test_acc"] - 0.5)
    both = pd.concat([rows, other], ignore_index=True)
    paper = parse_paper({"compression": {"SNIP": {5: 100}}, "accuracy": {"SNIP": [[85.0, 1.0], [70.0, 0.5]]},
                         "levels": [100, 200]})
    import dataclasses

    paper = dataclasses.replace(paper, model="lenet300", dataset="fmnist")
    table1 = compression_table(both, [5])
    (line,) = [x for x in compression_lines(table1, paper) if x.startswith("| SNIP")]
    assert line.startswith("| SNIP | 100 | 100 | yes")
    (line,) = [x for x in accuracy_lines(accuracy_table(both, [0.99, 0.995]), paper) if x.startswith("| SNIP")]
    assert "85.33 ± 4.62 / 85.00" in line
