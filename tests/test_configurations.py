"""Method labels and styles, and the configurations result rows aggregate into: seeds merged, fields that split one."""

from __future__ import annotations

import json

import hand_made_sweep as sweep
import pandas as pd
import pytest

from suite.analysis import configurations
from suite.methods import labels


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
    from matplotlib.colors import to_hex

    palette = [to_hex(c) for c in sns.color_palette("colorblind", 10)]
    assert labels.label_style("DWF (D=2)")["color"] == palette[0]
    assert labels.label_style("SynFlow")["color"] == palette[9]
    assert labels.label_style("Dense") == dict(linestyle=":", linewidth=1.4, markersize=4, color="#000000", marker="")
    deeper = labels.label_style("DWF (D=5)")  # not fixed: a stable pick, the same every time
    assert deeper == labels.label_style("DWF (D=5)") and deeper["color"] in palette
    assert labels.label_style("SNIP + GMP")["linestyle"] == "--"


# --------------------------------------------------------------------------- configurations

def test_configurations_aggregate_over_seeds_and_keep_diverged(rows):
    configs = configurations.aggregate_configs(rows)
    gmp = configs[configs["label"] == "GMP"]
    assert len(gmp[gmp["model"] == "lenet300"]) == 3  # one per target, seeds merged
    assert set(gmp[gmp["model"] == "lenet300"]["n_seeds"]) == {3}
    diverged = configs[(configs["label"] == "DWF (D=3)") & (configs["lam"] == 1e-1)].iloc[0]
    assert diverged["n_not_ok"] == 3 and diverged["test_acc_median"] == pytest.approx(0.1)
    l1 = configs[configs["method"] == "l1"]
    assert sorted(l1["label"]) == ["L1 + GMP", "Vanilla L1"]


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


def test_a_field_added_later_at_its_default_does_not_split_a_configuration():
    """Configs stored before omega_max existed lack the key; a new trial's config has it at its default.
    The two are one configuration (it was two, so an adaptive run resumed with new code split every
    stored DWF point from its new seeds); the other value is a configuration of its own."""
    def row(seed, extra):
        config = {"seed": seed, "omega_min": None, "compressions": [], **extra}
        return {"method": "dwf", "model": "lenet300", "dataset": "fmnist", "lr": 0.15, "epochs": 75, "seed": seed,
                "depth": 3, "lam": 1e-3, "point": "final", "compression_ratio": 400.0, "sparsity": 0.9975,
                "status": "ok", "total_params": 266200, "test_acc": 0.85, "config_json": json.dumps(config)}

    rows = [row(0, {}), row(1, {"omega_max": "product"}), row(2, {"omega_max": "factor"})]
    configs = configurations.aggregate_configs(pd.DataFrame(rows))
    assert sorted(configs["n_seeds"]) == [1, 2]


def test_the_median_compression_and_sparsity_of_an_even_seed_count_describe_one_network():
    rows = pd.DataFrame([sweep.row("synflow", 0, 0.8, 100, target=50), sweep.row("synflow", 1, 0.8, 10_000, target=50)])
    config = configurations.aggregate_configs(rows).iloc[0]
    assert config["compression_ratio"] == pytest.approx((1000 + 10) / 2)
    assert config["sparsity"] == pytest.approx(1 - 1 / config["compression_ratio"])  # not (0.999 + 0.9) / 2
