"""Figure data and figures on the hand-made sweep of hand_made_sweep.py."""

from __future__ import annotations

import json

import hand_made_sweep as sweep
import numpy as np
import pandas as pd
import pytest

from suite.analysis import configurations, figure_data, plots


def _line_labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_pareto_selection_is_each_labels_frontier(rows):
    selection = figure_data.pareto_selection(configurations.aggregate_configs(rows))
    a = configurations.section_of(selection, "lenet300", "fmnist")
    dwf3 = a[a["label"] == "DWF (D=3)"]
    # Frontier: CR 50 (.89), 200 (.85), 333 (.8499), 400 (.849), 1000 (.70); 400 @ .83 is
    # dominated and the diverged (infinite CR) configuration cannot be drawn.
    np.testing.assert_allclose(dwf3["compression_ratio"], [50, 200, sweep.TOTAL / 300, 400, 1000])
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
    np.testing.assert_allclose(dwf3.get_xdata(), [50, 200, sweep.TOTAL / 300, 400, 1000])
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
    with pytest.raises(ValueError, match="yscale 'symlog': allowed: 'log', 'linear'"):
        plots.layers_panel(pd.DataFrame(columns=figure_data.LAYER_COLUMNS), yscale="symlog")
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
    assert sorted(data["lam"].unique()) == pytest.approx(sorted(list(sweep.DWF3) + [1e-1]))
    assert sorted(data["epoch"].unique()) == [0, 1, 2, 3, 4]
    at_boundary = data[(data["lam"] == 1e-3) & (data["epoch"] == 4)]
    assert at_boundary["test_acc"].tolist() == pytest.approx([0.85])  # median over the three seeds


def test_dynamics_figure_lines(rows, history):
    fig = plots.dynamics_figure(figure_data.dynamics_selection(history, rows))
    panels, (colorbar,) = fig.axes[:3], fig.axes[3:]  # λ alone tells the runs apart: a colour bar, no legend
    expected = [f"λ = {lam:.1e}" for lam in sorted(list(sweep.DWF3) + [1e-1])]
    for ax in panels:
        assert _line_labels(ax) == expected
        assert ax.xaxis.get_major_locator()._integer  # epochs are whole numbers
    assert [ax.get_yscale() for ax in panels] == ["linear", "log", "log"]
    assert colorbar.get_ylabel() == "Regularization λ (log scale)" and colorbar.get_yscale() == "log"
    assert fig.get_suptitle() == "Training dynamics of DWF (D=3): LeNet-300-100 on F-MNIST"
    assert not fig.legends


def test_variant_text_names_a_key_that_is_no_config_field():
    # A retired field in an old stored config has no default to fall back on.
    trials = pd.DataFrame({"epochs": [5, 5], "settings": ['{"legacy": 1}', '{"legacy": 2}']})
    assert figure_data._variants(trials) == ["legacy=1", "legacy=2"]


def test_dynamics_keep_configurations_apart_that_differ_beyond_lambda_and_lr():
    # Same λ and lr: one pair trained 5 epochs, one 2 (a quick look in the same store), and a third
    # that differs in a config field the rows have no column for. No median may mix them.
    def trial(tag, acc, epochs, omega_min):
        out = []
        for seed in (0, 1):
            r = sweep.row("dwf", seed, acc, 500, depth=3, lam=1e-3, lr=0.15, trial=tag)
            r["epochs"] = epochs
            r["config_json"] = json.dumps({"omega_min": omega_min, "seed": seed})
            out.append(r)
        return out
    rows = pd.DataFrame(trial("long", 0.85, 5, None) + trial("short", 0.60, 2, None) + trial("probe", 0.10, 5, 3e-3))
    # One seed's config written before omega_max existed, the other's with it at its default: one configuration.
    rows.loc[rows["config_hash"].str.contains("-long-s1"), "config_json"] = json.dumps(
        {"omega_min": None, "seed": 1, "omega_max": "product"})
    data = figure_data.dynamics_selection(sweep.history_rows(rows), rows)
    last = data[data["epoch"] == 4].set_index("variant")["test_acc"]
    assert last.to_dict() == pytest.approx({"5 epochs, omega_min=None": 0.85, "2 epochs, omega_min=None": 0.60,
                                            "5 epochs, omega_min=0.003": 0.10})
    labels = _line_labels(plots.dynamics_figure(data).axes[0])
    assert "λ = 1.0e-03, 2 epochs, omega_min=None" in labels and len(labels) == 3
