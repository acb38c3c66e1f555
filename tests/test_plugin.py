"""A method written outside the project (docs/examples/magnitude_at_init.py, the docs' plugin) runs through
`bench run`, `bench sweep` and `bench report` like a built-in, with a knob of its own (`scope`) that a spec
sweeps and `bench run --param` sets."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from bench_subprocess import bench, write_spec
from suite.config import TrialConfig
from suite.core.models.registry import build_model
from suite.methods.masks import counted_parameters, keep_count
from suite.methods.validation import validate_trial
from suite.sweep.parsing import import_plugins

PLUGIN = Path(__file__).resolve().parents[1] / "docs" / "examples" / "magnitude_at_init.py"


def test_the_plugin_keeps_the_largest_initial_weights():
    import_plugins([str(PLUGIN)])
    import_plugins([str(PLUGIN)])  # once per process: a second import registers nothing twice
    from suite.methods.base import METHODS

    method = METHODS.get("magnitude_init")
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="magnitude_init", compressions=(20.0,))
    model = build_model("lenet300", 10, (1, 28, 28))
    prepared = method.prepare(cfg, model, torch.Generator().manual_seed(0))
    weights = torch.cat([p.detach().abs().flatten() for _, p in counted_parameters(prepared.model, False)])
    kept = weights[weights > 0]
    assert len(kept) == keep_count(len(weights), 20.0)
    assert kept.min() >= weights[weights == 0].max()  # nothing pruned is larger than what was kept
    assert cfg.scope == "global" and cfg.config_hash == TrialConfig.from_dict(cfg.to_dict()).config_hash


def test_the_plugins_own_knob_is_a_checked_parameter_of_its_configs_only():
    import_plugins([str(PLUGIN)])
    base = {"model": "lenet300", "dataset": "synthetic", "compressions": (20.0,)}
    default = TrialConfig(**base, method="magnitude_init")
    layer = TrialConfig(**base, method="magnitude_init", scope="layer")
    validate_trial(layer)
    # At its default the knob leaves the hash (and the stored config) as before the knob existed.
    assert "scope" not in default.identity() and "scope" not in default.to_dict()
    assert layer.identity()["scope"] == "layer" and layer.config_hash != default.config_hash
    with pytest.raises(ValueError, match=r"'scope' = 'row' is not allowed; allowed: \['global', 'layer'\]"):
        TrialConfig(**base, method="magnitude_init", scope="row")
    with pytest.raises(ValueError, match="'scope' = 'layer' is not allowed.*does not read it.*magnitude_init"):
        TrialConfig(**base, method="snip", scope="layer")
    model = build_model("lenet300", 10, (1, 28, 28))
    from suite.methods.base import METHODS

    prepared = METHODS.get("magnitude_init").prepare(layer, model, torch.Generator().manual_seed(0))
    for _, p in counted_parameters(prepared.model, False):  # every layer keeps its own share
        assert int((p != 0).sum()) == keep_count(p.numel(), 20.0)


def test_bench_run_takes_a_plugin_file(tmp_path):
    done = bench("run", "--plugin", str(PLUGIN), "--model", "lenet300", "--dataset", "synthetic", "--method",
                 "magnitude_init", "--compression", "10", "--epochs", "1", "--results", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    (rows,) = (tmp_path / "adhoc" / "rows").glob("*.parquet")
    row = pq.read_table(rows).to_pylist()[0]
    assert row["method"] == "magnitude_init" and round(row["compression_ratio"]) == 10
    layered = bench("run", "--plugin", str(PLUGIN), "--model", "lenet300", "--dataset", "synthetic", "--method",
                    "magnitude_init", "--compression", "10", "--epochs", "1", "--param", "scope=layer",
                    "--results", str(tmp_path))
    assert layered.returncode == 0, layered.stdout + layered.stderr
    configs = [pq.read_table(p).to_pylist()[0]["config_json"] for p in (tmp_path / "adhoc" / "rows").glob("*.parquet")]
    assert sorted('"scope": "layer"' in c for c in configs) == [False, True]
    missing = bench("run", "--plugin", str(tmp_path / "nope.py"), "--model", "lenet300", "--dataset", "synthetic",
                    "--method", "magnitude_init", "--compression", "10")
    assert missing.returncode != 0 and "--plugin" in missing.stdout + missing.stderr


@pytest.mark.slow
def test_a_plugin_method_sweeps_and_reports_like_a_built_in(tmp_path):
    spec = write_spec(tmp_path, f"""\
        name: plugged
        model: lenet300
        dataset: synthetic
        train: {{epochs: 1}}
        seeds: [0]
        plugins: ["{PLUGIN}"]
        methods:
          dense: {{}}
          magnitude_init: {{compression: [10, 100], scope: [global, layer]}}
        """)
    results, out = tmp_path / "results", tmp_path / "report"
    swept = bench("sweep", str(spec), "--results", str(results), "--num-cpus", "2")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert len(list((results / "plugged" / "rows").glob("*.parquet"))) == 5  # dense, 2 targets x 2 scopes
    reported = bench("report", "plugged", "--results", str(results), "--out", str(out), "--spec", str(spec))
    assert reported.returncode == 0, reported.stdout + reported.stderr
    assert "| Magnitude at init |" in (out / "accuracy.md").read_text()
    assert (out / "pareto.png").stat().st_size > 0
