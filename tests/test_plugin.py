"""A method written outside the project (docs/examples/magnitude_at_init.py, the docs' plugin) runs through
`bench run`, `bench sweep` and `bench report` like a built-in."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from bench_subprocess import bench, write_spec
from suite.config import TrialConfig
from suite.core.models import build_model
from suite.methods.masks import counted_parameters, keep_count
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


def test_bench_run_takes_a_plugin_file(tmp_path):
    done = bench("run", "--plugin", str(PLUGIN), "--model", "lenet300", "--dataset", "synthetic", "--method",
                 "magnitude_init", "--compression", "10", "--epochs", "1", "--results", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    (rows,) = (tmp_path / "adhoc" / "rows").glob("*.parquet")
    row = pq.read_table(rows).to_pylist()[0]
    assert row["method"] == "magnitude_init" and round(row["compression_ratio"]) == 10
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
          magnitude_init: {{compression: [10, 100]}}
        """)
    results, out = tmp_path / "results", tmp_path / "report"
    swept = bench("sweep", str(spec), "--results", str(results), "--num-cpus", "2")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert len(list((results / "plugged" / "rows").glob("*.parquet"))) == 3
    reported = bench("report", "plugged", "--results", str(results), "--out", str(out), "--spec", str(spec))
    assert reported.returncode == 0, reported.stdout + reported.stderr
    assert "| Magnitude at init |" in (out / "accuracy.md").read_text()
    assert (out / "pareto.png").stat().st_size > 0
