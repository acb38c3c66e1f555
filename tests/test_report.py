"""Tables, figures and write_report on a small hand-made sweep with known answers.

Float boundaries: the ε boundary is tested with a configuration whose median is
0.85 while the reference is 0.90, and 0.90 - 0.05 is not guaranteed to equal
0.85 in binary; selections.ACC_TOL (1e-9) makes the boundary inclusive, and a
configuration 1e-4 below it (one test sample in 10k) must stay out.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from suite.analysis import configurations, figure_data, labels, plots, rendering, tables, writing
from suite.results.store import TrialResult, write_failure, write_trial

TOTAL = 100_000
LAYER_TOTALS = {"fc1": 80_000, "fc2": 19_000, "fc3": 1_000}


def _row(method, seed, acc, nonzero, *, depth=None, lam=None, lr=0.1, target=None, point="final", point_id=0,
         status="ok", model="lenet300", dataset="fmnist", trial=None):
    trial = trial or f"{method}-{depth}-{lam}-{target}"
    return {
        "sweep": "t", "method": method, "model": model, "dataset": dataset, "depth": depth, "lam": lam, "lr": lr,
        "target_compression": target, "seed": seed, "epochs": 5, "point": point, "point_id": point_id,
        "status": status, "test_acc": acc, "train_acc": acc, "total_params": TOTAL, "nonzero_params": nonzero,
        "compression_ratio": TOTAL / nonzero if nonzero else math.inf, "sparsity": 1 - nonzero / TOTAL,
        "l2_norm": 1.0, "config_hash": f"{model}-{dataset}-{trial}-s{seed}",
    }


def _seeds(method, accs, nonzero, **kw):
    return [_row(method, seed, acc, nonzero, **kw) for seed, acc in enumerate(accs)]


DWF3 = {  # lam: (nonzero, accs over seeds 0..2)
    1e-4: (2000, [0.88, 0.89, 0.90]),      # CR 50,   median .89
    1e-3: (500, [0.84, 0.85, 0.86]),       # CR 200,  median .85 = exactly the ε=5 boundary
    2e-3: (300, [0.8489, 0.8499, 0.8509]),  # CR 333,  1e-4 below the boundary
    3e-3: (250, [0.839, 0.849, 0.859]),    # CR 400,  ties in CR with 5e-3, more accurate
    5e-3: (250, [0.82, 0.83, 0.84]),       # CR 400
    1e-2: (100, [0.69, 0.70, 0.71]),       # CR 1000, outside both ε
}


def section_a() -> list[dict]:
    rows = _seeds("dense", [0.89, 0.90, 0.91], TOTAL)
    for lam, (nonzero, accs) in DWF3.items():
        rows += _seeds("dwf", accs, nonzero, depth=3, lam=lam, lr=0.15)
    # Diverged: all weights zero, chance accuracy; kept as a real result.
    rows += _seeds("dwf", [0.1, 0.1, 0.1], 0, depth=3, lam=1e-1, lr=0.15, status="diverged")
    rows += _seeds("dwf", [0.78, 0.79, 0.80], 1000, depth=2, lam=1e-3, lr=0.15)
    for seed in range(3):  # GMP: one dense training per seed, pruned at each target
        for point_id, (target, nonzero, acc) in enumerate([(10, 10_000, 0.89), (100, 1000, 0.86), (1000, 100, 0.50)]):
            rows.append(_row("gmp", seed, acc + 0.01 * (seed - 1), nonzero, target=target, point="final",
                             point_id=point_id, trial="gmp"))
    # SynFlow at target 100 keeps one parameter too many: still counts as 99%.
    rows += _seeds("synflow", [0.80, 0.81, 0.82], 1001, target=100)
    for seed, acc in enumerate([0.87, 0.88, 0.89]):
        rows.append(_row("l1", seed, acc, 5000, lam=1e-4, point="final", point_id=0, trial="l1"))
        rows.append(_row("l1", seed, acc - 0.01, 2000, lam=1e-4, target=50, point="posthoc", point_id=1, trial="l1"))
    return rows


def section_b() -> list[dict]:
    rows = _seeds("dense", [0.98, 0.99, 0.99], TOTAL, model="lenet5", dataset="mnist")
    rows.append(_row("gmp", 0, 0.985, 10_000, target=10, point="final", model="lenet5", dataset="mnist"))
    return rows


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.DataFrame(section_a() + section_b())


def _layers_for(row: dict) -> list[dict]:
    nonzero = row["nonzero_params"]
    if row["method"] == "gmp":  # GMP collapses the last layer
        counts = {"fc1": int(nonzero * 0.7), "fc2": nonzero - int(nonzero * 0.7), "fc3": 0}
    else:
        counts = {"fc1": int(nonzero * 0.6), "fc2": int(nonzero * 0.3)}
        counts["fc3"] = nonzero - counts["fc1"] - counts["fc2"]
    return [{"config_hash": row["config_hash"], "point_id": row["point_id"], "layer": name, "layer_index": i,
             "total_params": LAYER_TOTALS[name], "nonzero_params": counts[name]}
            for i, name in enumerate(LAYER_TOTALS)]


def _history_for(row: dict) -> list[dict]:
    return [{"config_hash": row["config_hash"], "epoch": e, "lr": 0.1, "test_acc": row["test_acc"] * (e + 1) / 5,
             "compression_ratio": 1 + (row["compression_ratio"] if math.isfinite(row["compression_ratio"]) else 1e4) * e / 4,
             "l2_norm": 10.0 / (1 + e)} for e in range(5)]


@pytest.fixture(scope="module")
def layers(rows) -> pd.DataFrame:
    return pd.DataFrame([lay for r in rows.to_dict("records") if r["model"] == "lenet300" for lay in _layers_for(r)])


@pytest.fixture(scope="module")
def history(rows) -> pd.DataFrame:
    dwf = rows[rows["method"] == "dwf"].drop_duplicates("config_hash")
    return pd.DataFrame([h for r in dwf.to_dict("records") for h in _history_for(r)])


def _cells(table: pd.DataFrame, model: str, dataset: str) -> pd.DataFrame:
    return table[(table["model"] == model) & (table["dataset"] == dataset)].set_index("label")


# --------------------------------------------------------------------------- labels

def test_method_labels_follow_the_paper():
    assert labels.method_label("dense") == "Dense"
    assert labels.method_label("dwf", 3.0, "final") == "DWF (D=3)"
    assert labels.method_label("spred", None) == "spred (D=2)"
    assert labels.method_label("pilot", None, "final") == "PILoT"
    assert labels.method_label("pilot", None, "posthoc") == "PILoT + GMP"
    assert labels.method_label("l1", None, "final") == "Vanilla L1"
    assert labels.method_label("l1", None, "posthoc") == "L1 + GMP"
    assert labels.method_label("gmp", None, "final") == "GMP"
    assert labels.method_label("gmp_oneshot", None, "posthoc") == "GMP (one-shot)"
    assert [labels.method_label(m) for m in ("snip", "synflow", "random")] == ["SNIP", "SynFlow", "Random"]
    shuffled = ["Random", "GMP", "DWF (D=4)", "Dense", "L1 + GMP", "DWF (D=2)", "SynFlow", "Vanilla L1"]
    assert labels.sort_labels(shuffled) == ["Dense", "DWF (D=2)", "DWF (D=4)", "Vanilla L1", "L1 + GMP", "GMP",
                                            "SynFlow", "Random"]


def test_label_styles_use_seaborns_colorblind_palette():
    import seaborn as sns

    palette = sns.color_palette("colorblind", 10)
    assert labels.label_style("DWF (D=2)")["color"] == palette[0]
    assert labels.label_style("SynFlow")["color"] == palette[9]
    assert labels.label_style("Dense") == dict(linestyle=":", linewidth=1.4, markersize=4, color="black", marker="")
    deeper = labels.label_style("DWF (D=5)")  # not fixed: a stable pick, the same every time
    assert deeper == labels.label_style("DWF (D=5)") and deeper["color"] in palette
    assert labels.label_style("SNIP + GMP")["linestyle"] == "--"


def test_configurations_aggregate_over_seeds_and_keep_diverged(rows):
    configs = configurations.aggregate_configs(rows)
    gmp = configs[configs["label"] == "GMP"]
    assert len(gmp[gmp["model"] == "lenet300"]) == 3  # one per target, seeds merged
    assert set(gmp[gmp["model"] == "lenet300"]["n_seeds"]) == {3}
    diverged = configs[(configs["label"] == "DWF (D=3)") & (configs["lam"] == 1e-1)].iloc[0]
    assert diverged["n_not_ok"] == 3 and diverged["test_acc_median"] == pytest.approx(0.1)
    l1 = configs[configs["method"] == "l1"]
    assert sorted(l1["label"]) == ["L1 + GMP", "Vanilla L1"]


# --------------------------------------------------------------------------- Table 1

def test_compression_table_picks_expected_cells(rows):
    table = tables.compression_table(rows, eps=(5, 10))
    a = _cells(table, "lenet300", "fmnist")
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
    assert a.loc["SynFlow", "cr@10"] == pytest.approx(TOTAL / 1001)
    # Empty stays empty (NaN / NA), never 0.
    assert pd.isna(a.loc["SynFlow", "cr@5"]) and pd.isna(a.loc["SynFlow", "n_seeds@5"])
    assert a.loc[["DWF (D=2)"], ["cr@5", "cr@10", "sparsity@5", "acc@10"]].isna().all().all()
    assert "SNIP" not in a.index and "Random" not in a.index


def test_compression_table_sections_and_absent_methods(rows):
    b = _cells(tables.compression_table(rows), "lenet5", "mnist")
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


def _orphan() -> pd.DataFrame:
    """One GMP result in a section without dense rows."""
    return pd.DataFrame([_row("gmp", 0, 0.9, 1000, target=100, point="final", model="lenet5", dataset="kmnist")])


def test_compression_table_at_absolute_thresholds(rows):
    """At 85% and 80% absolute, lenet300/fmnist (dense median 90%) gets the cells of
    ε = 5 and 10: the same cell rules, only the thresholds and column names differ."""
    absolute = tables.compression_table(rows, absolute=(0.85, 0.80))
    assert list(absolute.columns) == tables.compression_columns(absolute=(0.85, 0.80))
    assert [c for c in absolute.columns if c.startswith("cr@")] == ["cr@85%", "cr@80%"]
    by_eps = _cells(tables.compression_table(rows, eps=(5, 10)), "lenet300", "fmnist")
    a = _cells(absolute, "lenet300", "fmnist")
    renamed = a.rename(columns=lambda c: c.replace("@85%", "@5").replace("@80%", "@10"))
    pd.testing.assert_frame_equal(renamed, by_eps)
    # Thresholds do not follow the dense model: at 95%, lenet300/fmnist (dense 90%)
    # has no qualifying configuration, dense included; lenet5/mnist (dense 99%) has.
    high = tables.compression_table(rows, absolute=(0.95,))
    assert _cells(high, "lenet300", "fmnist")["cr@95%"].isna().all()
    b = _cells(high, "lenet5", "mnist")
    assert b.loc["Dense", "cr@95%"] == pytest.approx(1.0) and b.loc["GMP", "cr@95%"] == pytest.approx(10)
    assert b.loc["Dense", "dense_acc"] == pytest.approx(0.99)


def test_absolute_thresholds_keep_sections_without_dense(rows):
    mixed = pd.concat([rows, _orphan()], ignore_index=True)
    kmnist = _cells(tables.compression_table(mixed, absolute=(0.85,)), "lenet5", "kmnist")
    assert kmnist.loc["GMP", "cr@85%"] == pytest.approx(100)
    assert kmnist["dense_acc"].isna().all() and pd.isna(kmnist.loc["Dense", "cr@85%"])


def test_absolute_threshold_columns_and_bad_input(rows):
    assert tables.compression_columns(absolute=tables.PAPER_FMNIST_LENET300_THRESHOLDS)[4::7] == [
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
    assert "No results" in rendering.to_markdown(rendering.format_compression_table(table))


# --------------------------------------------------------------------------- Table 2

def test_accuracy_table_follows_its_rule(rows):
    a = _cells(tables.accuracy_table(rows), "lenet300", "fmnist")
    levels = ["0.9", "0.95", "0.98", "0.99", "0.995", "0.9975", "0.99875", "0.999"]

    def means(label):
        return [a.loc[label, f"mean@{s}"] for s in levels]

    nan = np.nan
    np.testing.assert_allclose(means("DWF (D=3)"), [0.89, 0.89, 0.89, 0.85, 0.85, 0.849, 0.70, 0.70])
    np.testing.assert_allclose(means("DWF (D=2)"), [0.79] * 4 + [nan] * 4)
    np.testing.assert_allclose(means("GMP"), [0.89, 0.86, 0.86, 0.86, 0.50, 0.50, 0.50, 0.50])
    np.testing.assert_allclose(means("SynFlow"), [0.81] * 4 + [nan] * 4)  # one parameter short of 99% counts
    np.testing.assert_allclose(means("Vanilla L1"), [0.88, 0.88] + [nan] * 6)
    np.testing.assert_allclose(means("L1 + GMP"), [0.87] * 3 + [nan] * 5)
    np.testing.assert_allclose(means("Dense"), [0.90] * 8)
    assert a.loc["DWF (D=3)", "std@0.99"] == pytest.approx(0.01)
    assert a.loc["DWF (D=3)", "lam@0.9975"] == pytest.approx(3e-3)
    assert a.loc["GMP", "target@0.95"] == pytest.approx(100)
    assert pd.isna(a.loc["DWF (D=2)", "n_seeds@0.995"])


def test_formatters(rows):
    display = rendering.format_compression_table(tables.compression_table(rows))
    md = rendering.to_markdown(display, tables.COMPRESSION_CAPTION)
    assert "**LeNet-300-100 on F-MNIST**" in md and "| DWF (D=3) | 200 (99.50%) | 400 (99.75%) |" in md
    assert "| DWF (D=2) | – | – |" in md and "90.00% acc. (reference)" in md
    tex = rendering.to_latex(display, "ε = 5 pp", label="tab:c")
    assert r"\toprule" in tex and r"99.50\%" in tex and r"$\varepsilon$" in tex and r"\multicolumn{3}" in tex
    acc_display = rendering.format_accuracy_table(tables.accuracy_table(rows))
    assert acc_display.columns[3:].tolist() == ["90%", "95%", "98%", "99%", "99.5%", "99.75%", "99.875%", "99.9%"]
    dwf3 = acc_display[(acc_display["Method"] == "DWF (D=3)") & (acc_display["Model"] == "LeNet-300-100")].iloc[0]
    assert dwf3["99%"] == "85.00 ± 1.00"
    csv = rendering.to_csv(tables.compression_table(rows))
    assert csv.splitlines()[0].startswith("model,dataset,label,dense_acc,cr@5")
    from suite.analysis.terminal import tables_for

    sections = display[["Model", "Dataset"]].drop_duplicates()
    wide = tables_for(display, "t", width=200)
    assert len(wide) == len(sections)  # one table per section, the section in its title
    assert sum(t.row_count for t in wide) == len(display)
    assert all(len(t.columns) == len(display.columns) - 2 for t in wide)


@pytest.mark.parametrize("width", [80, 50])
def test_terminal_tables_keep_every_method_and_cell_readable(width, rows):
    """At 80 columns (a log, a small terminal) nothing is cut to '…'."""
    import io

    from rich.console import Console

    from suite.analysis.terminal import print_table

    for display in (rendering.format_accuracy_table(tables.accuracy_table(rows)),
                    rendering.format_compression_table(tables.compression_table(rows, missing_dense="skip"))):
        out = io.StringIO()
        print_table(Console(file=out, width=width, color_system=None), display, "lenet300_fmnist: table")
        text = out.getvalue()
        assert "…" not in text
        for value in display.drop(columns=["Model", "Dataset"]).to_numpy().ravel():
            assert str(value) in text, value


# --------------------------------------------------------------------------- figures

def _line_labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_pareto_selection_is_each_labels_frontier(rows):
    selection = figure_data.pareto_selection(configurations.aggregate_configs(rows))
    a = configurations.section_of(selection, "lenet300", "fmnist")
    dwf3 = a[a["label"] == "DWF (D=3)"]
    # Frontier: CR 50 (.89), 200 (.85), 333 (.8499), 400 (.849), 1000 (.70); 400 @ .83 is
    # dominated and the diverged (infinite CR) configuration cannot be drawn.
    np.testing.assert_allclose(dwf3["compression_ratio"], [50, 200, TOTAL / 300, 400, 1000])
    np.testing.assert_allclose(dwf3["test_acc_median"], [0.89, 0.85, 0.8499, 0.849, 0.70])
    np.testing.assert_allclose(dwf3["test_acc_min"], [0.88, 0.84, 0.8489, 0.839, 0.69])
    dense = a[a["label"] == "Dense"]  # one row: the reference configuration
    assert dense["test_acc_median"].tolist() == pytest.approx([0.90])
    assert configurations.sections(selection) == [("lenet300", "fmnist"), ("lenet5", "mnist")]


def test_pareto_figure_draws_the_selection(rows):
    selection = figure_data.pareto_selection(configurations.aggregate_configs(rows))
    fig = plots.pareto_figure(selection)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert [ax.get_title() for ax in axes] == ["LeNet-300-100 on F-MNIST", "LeNet-5 on MNIST"]
    a = axes[0]
    assert set(_line_labels(a)) == {"Dense", "DWF (D=2)", "DWF (D=3)", "Vanilla L1", "L1 + GMP", "GMP", "SynFlow"}
    assert a.get_xscale() == "log" and a.get_ylabel() == "Test accuracy (%)"
    dwf3 = next(line for line in a.get_lines() if line.get_label() == "DWF (D=3)")
    np.testing.assert_allclose(dwf3.get_xdata(), [50, 200, TOTAL / 300, 400, 1000])
    np.testing.assert_allclose(dwf3.get_ydata(), [89, 85, 84.99, 84.9, 70])
    dense = next(line for line in a.get_lines() if line.get_label() == "Dense")
    np.testing.assert_allclose(dense.get_ydata(), [90.0, 90.0])  # a horizontal line
    assert len(fig.legends) == 1


def test_panels_draw_into_a_given_axes(rows):
    selection = figure_data.pareto_selection(configurations.aggregate_configs(rows))
    fig = plots.pareto_figure(selection)
    free = fig.axes[-1]  # a grid of 3 for 2 sections leaves one axes unused
    returned = plots.pareto_panel(configurations.section_of(selection, "lenet5", "mnist"), ax=free)
    assert returned is fig and free.get_title() == "LeNet-5 on MNIST"
    alone = plots.pareto_panel(configurations.section_of(selection, "lenet5", "mnist"))
    assert alone is not fig and len(alone.axes) == 1 and set(_line_labels(alone.axes[0])) == {"Dense", "GMP"}
    with pytest.raises(ValueError, match="allowed: test_acc, compression_ratio, l2_norm"):
        plots.dynamics_panel(pd.DataFrame(columns=figure_data.DYNAMICS_COLUMNS), "accuracy")


def test_layer_selection_picks_configurations_near_each_ratio(rows, layers):
    selection = figure_data.layer_selection(rows, layers, compressions=(200, 1000), model="lenet300",
                                            dataset="fmnist")
    picked = selection.drop_duplicates(["compression", "label"])
    # Within a factor 2 of 200: DWF D=3 at 200, DWF D=2 and GMP at 100; SynFlow
    # (99.9) and the L1 variants are too far away.
    assert list(zip(picked["compression"], picked["label"], picked["achieved"])) == [
        (200, "DWF (D=2)", 100), (200, "DWF (D=3)", 200), (200, "GMP", 100),
        (1000, "DWF (D=3)", 1000), (1000, "GMP", 1000)]
    gmp = selection[(selection["compression"] == 1000) & (selection["label"] == "GMP")]
    np.testing.assert_allclose(gmp["remaining"], [70 / 80_000, 30 / 19_000, 0.0])  # fc3 pruned entirely
    assert set(selection["model"]) == {"lenet300"} and set(selection["dataset"]) == {"fmnist"}
    assert figure_data.layer_selection(rows, layers, compressions=(200,), max_factor=1.01,
                                       model="lenet300", dataset="fmnist")["label"].unique().tolist() == ["DWF (D=3)"]


def test_layers_figure_lines(rows, layers):
    selection = figure_data.layer_selection(rows, layers, compressions=(200, 1000), model="lenet300",
                                            dataset="fmnist")
    fig = plots.layers_figure(selection)
    assert [ax.get_title() for ax in fig.axes] == ["Compression ≈ 200×", "Compression ≈ 1000×"]
    at200, at1000 = (_line_labels(ax) for ax in fig.axes)
    assert at200 == ["DWF (D=2) (CR 100)", "DWF (D=3) (CR 200)", "GMP (CR 100)"]
    assert at1000 == ["DWF (D=3) (CR 1000)", "GMP (CR 1000)"]
    gmp = next(line for line in fig.axes[1].get_lines() if line.get_label() == "GMP (CR 1000)")
    assert gmp.get_ydata()[0] == pytest.approx(70 / 80_000)
    pruned = [line for line in fig.axes[1].get_lines() if line.get_label() == "_GMP pruned layers"]
    assert len(pruned) == 1 and list(pruned[0].get_xdata()) == [2]  # fc3 fully pruned
    assert fig.axes[0].get_yscale() == "log"


def test_dynamics_selection_defaults_to_the_deepest_dwf(rows, history):
    data = figure_data.dynamics_selection(history, rows)
    assert set(data["label"]) == {"DWF (D=3)"}  # the largest depth present
    assert sorted(data["lam"].unique()) == pytest.approx(sorted(list(DWF3) + [1e-1]))
    assert sorted(data["epoch"].unique()) == [0, 1, 2, 3, 4]
    at_boundary = data[(data["lam"] == 1e-3) & (data["epoch"] == 4)]
    assert at_boundary["test_acc"].tolist() == pytest.approx([0.85])  # median over the three seeds


def test_dynamics_figure_lines(rows, history):
    fig = plots.dynamics_figure(figure_data.dynamics_selection(history, rows))
    assert len(fig.axes) == 3
    expected = [f"λ = {lam:.1e}" for lam in sorted(list(DWF3) + [1e-1])]
    for ax in fig.axes:
        assert _line_labels(ax) == expected
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "log", "log"]
    assert fig.get_suptitle() == "Training dynamics of DWF (D=3): LeNet-300-100 on F-MNIST"
    assert len(fig.legends) == 1


# --------------------------------------------------------------------------- write_report

@pytest.fixture(scope="module")
def store(tmp_path_factory, rows, layers, history):
    """The hand-made sweep written as a store (sweep 't') with one failed trial."""
    by_trial: dict[str, TrialResult] = defaultdict(lambda: TrialResult(rows=[]))
    for record in rows.to_dict("records"):
        record = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}
        by_trial[record["config_hash"]].rows.append(record)
    for record in layers.to_dict("records"):
        by_trial[record["config_hash"]].layers.append(record)
    for record in history.to_dict("records"):
        by_trial[record["config_hash"]].history.append(record)
    root = tmp_path_factory.mktemp("store") / "results"
    for result in by_trial.values():
        write_trial(root, "t", result)
    write_failure(root, "t", "deadbeef", {"method": "snip", "model": "lenet300", "seed": 0}, "Traceback\nRuntimeError: boom")
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
    assert expected | {"index.md"} == names
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
    unjudged = (writing.write_report(store, "t", tmp_path / "r2", tables=(), plots=()))[-1].read_text()
    assert _index_section(unjudged, "Missing methods")[0].startswith("Not judged")
    csv = pd.read_csv(out / "compression.csv")
    assert csv.set_index(["model", "label"]).loc[("lenet300", "DWF (D=3)"), "cr@5"] == pytest.approx(200)


def test_write_report_writes_the_absolute_table_when_asked(tmp_path, store):
    out = tmp_path / "report"
    written = writing.write_report(store, "t", out, tables=(), plots=(), absolute_thresholds=(0.85, 0.80))
    assert [p.name for p in written] == [f"{writing.ABSOLUTE_TABLE_NAME}.{ext}" for ext in ("md", "csv", "tex")] + [
        "index.md"]
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
    with pytest.raises(ValueError, match=r"unknown table\(s\) \['nope'\]; allowed: \['compression', 'accuracy'\]"):
        writing.write_report(tmp_path, "t", tmp_path / "o", tables=("nope",))
    with pytest.raises(ValueError, match=r"unknown plot\(s\) \['p'\]; allowed"):
        writing.write_report(tmp_path, "t", tmp_path / "o", plots="p")


def test_configurations_differing_in_other_settings_are_not_merged_as_seeds():
    """GMP with and without fine-tuning, same seed and target: two configurations."""
    base = {"method": "gmp", "model": "lenet300", "dataset": "fmnist", "lr": 0.15, "epochs": 75, "seed": 0,
            "point": "posthoc", "target_compression": 100.0, "compression_ratio": 100.0, "sparsity": 0.99,
            "status": "ok", "total_params": 266610}
    rows = pd.DataFrame([
        {**base, "test_acc": 0.16, "config_json": '{"finetune_epochs": 0, "seed": 0, "compressions": [100.0]}'},
        {**base, "test_acc": 0.86, "config_json": '{"finetune_epochs": 25, "seed": 0, "compressions": [100.0]}'},
        {**base, "seed": 1, "test_acc": 0.18,
         "config_json": '{"finetune_epochs": 0, "seed": 1, "compressions": [10.0, 100.0]}'},
    ])
    configs = configurations.aggregate_configs(rows).sort_values("test_acc_median")
    assert list(configs["n_seeds"]) == [2, 1]
    assert list(configs["test_acc_median"]) == pytest.approx([0.17, 0.86])


def test_fields_a_method_does_not_read_do_not_split_its_configurations():
    """omega_min changed its default from 3e-3 to null; SynFlow never reads it, so its
    seeds stay one configuration, while for DWF the two values are two configurations."""
    def row(method, seed, omega_min, depth=None):
        config = {"seed": seed, "omega_min": omega_min, "compressions": [100.0]}
        return {"method": method, "model": "lenet300", "dataset": "fmnist", "lr": 0.15, "epochs": 75, "seed": seed,
                "depth": depth, "point": "final", "target_compression": 100.0, "compression_ratio": 100.0,
                "sparsity": 0.99, "status": "ok", "total_params": 266200, "test_acc": 0.85,
                "config_json": json.dumps(config)}

    synflow = configurations.aggregate_configs(pd.DataFrame([row("synflow", 0, 0.003), row("synflow", 1, None)]))
    assert list(synflow["n_seeds"]) == [2]
    dwf = configurations.aggregate_configs(pd.DataFrame([row("dwf", 0, 0.003, 3), row("dwf", 1, None, 3)]))
    assert sorted(dwf["n_seeds"]) == [1, 1]


def test_bench_report_judges_missing_methods_by_the_sweeps_spec(tmp_path):
    """`bench report smoke`: the smoke spec asks for dense, dwf, gmp and snip; with only
    dense stored, exactly the other three are missing (not spred, pilot, ...)."""
    from typer.testing import CliRunner

    from suite.cli.main import app
    from suite.config import TrialConfig
    from suite.results.store import write_trial
    from suite.train import run_trial

    write_trial(tmp_path, "smoke", run_trial(TrialConfig(model="lenet300", dataset="synthetic", method="dense",
                                                         epochs=1, sweep="smoke")))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "smoke", "--results", str(tmp_path), "--out", str(out),
                                      "--table", "compression"])
    assert result.exit_code == 0, result.output
    missing = (out / "index.md").read_text().split("## Missing methods")[1].split("##")[0].strip()
    assert missing == "dwf, gmp, snip"
