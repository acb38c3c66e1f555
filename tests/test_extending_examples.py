"""A model and a dataset written outside the project (docs/examples/mlp_model.py and csv_dataset.py, the docs'
"Add a model or a dataset" example) train, sweep and report like built-ins: DWF factorizes the model and
pruning counts it, the dataset is read from the user's CSV files, and its fingerprint is made from those
files' bytes, so the rows name the data they trained on and editing a file makes other data."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from bench_subprocess import bench, write_spec
from suite.sweep.parsing import import_plugins

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
MODEL, DATASET = EXAMPLES / "mlp_model.py", EXAMPLES / "csv_dataset.py"
PLUGINS = ("--plugin", str(DATASET), "--plugin", str(MODEL))
# mlp64 on 16 features and 4 classes: its three Linear layers' weights, and their biases.
MLP64_WEIGHTS, MLP64_BIASES = 16 * 64 + 64 * 64 + 64 * 4, 64 + 64 + 4


def _examples():
    """The example modules, imported as `bench` imports a plugin file (once per process)."""
    import_plugins([str(DATASET), str(MODEL)])
    import sys

    return next(m for name, m in sys.modules.items() if name.startswith("bench_plugin_")
                and getattr(m, "__file__", None) == str(DATASET))


def _identity(root: Path):
    from suite.core.data.fingerprint import identity_of_files

    return identity_of_files(root, ["tabular/train.csv", "tabular/test.csv"])


def _edit_one_label(root: Path) -> None:
    """Change the first training example's label: one byte of tabular/train.csv, the file's size unchanged."""
    path = root / "tabular" / "train.csv"
    header, first, rest = path.read_text().split("\n", 2)
    features, label = first.rsplit(",", 1)
    path.write_text("\n".join([header, f"{features},{(int(label) + 1) % 4}", rest]))


def _rows(folder: Path) -> list[dict]:
    return [row for path in sorted(folder.glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def test_the_model_is_an_mlp_of_its_width_that_dwf_and_pruning_count():
    _examples()
    from suite.core.models.registry import MODELS, build_model
    from suite.methods.masks import counted_parameters

    assert {"mlp64", "mlp256"} <= set(MODELS) and MODELS.get("mlp256").title == "MLP-256"
    net = build_model("mlp64", 4, (1, 1, 16))
    assert [type(m).__name__ for m in net] == ["Flatten", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert sum(p.numel() for p in net.parameters()) == MLP64_WEIGHTS + MLP64_BIASES
    assert build_model("mlp256", 10, (1, 28, 28))[1].weight.shape == (256, 784)  # adapts to the inputs
    # What pruning counts is every weight of its Linear layers, and every bias with include_bias.
    assert sum(p.numel() for _, p in counted_parameters(net, False)) == MLP64_WEIGHTS
    assert sum(p.numel() for _, p in counted_parameters(net, True)) == MLP64_WEIGHTS + MLP64_BIASES
    assert net(torch.zeros(3, 1, 1, 16)).shape == (3, 4)


def test_the_dataset_reads_the_users_files_and_is_fingerprinted_from_their_bytes(tmp_path):
    example = _examples()
    from suite.core.data.registry import DATASETS, dataset_identity, load_dataset
    from suite.core.data.root import DataError

    root = tmp_path / "data"
    with pytest.raises(DataError, match=r"'tabular' not found.*tabular/train.csv, tabular/test.csv missing"):
        load_dataset("tabular", root)
    example.write_sample(root)
    assert DATASETS.get("tabular").files == ("tabular/train.csv", "tabular/test.csv")
    bundle = load_dataset("tabular", root)
    assert (bundle.n_train, bundle.n_test, bundle.num_classes) == (512, 128, 4)
    assert bundle.train_x.shape == (512, 1, 1, 16) and bundle.train_y.dtype == torch.int64
    assert torch.allclose(bundle.train_x.mean(dim=0), torch.zeros(1, 1, 16), atol=1e-5)  # standardized
    before = _identity(root)
    assert bundle.identity == before and dataset_identity("tabular", root) == before
    assert set(before.sources) == {"tabular/train.csv", "tabular/test.csv"}
    _edit_one_label(root)
    after = dataset_identity("tabular", root)
    assert after.fingerprint != before.fingerprint
    assert after.sources["tabular/test.csv"] == before.sources["tabular/test.csv"]  # only the edited file's md5
    assert load_dataset("tabular", root).identity == after  # read again, not the bundle of the old bytes
    (root / "tabular" / "test.csv").write_text("x0,label\n1.0,0\n")
    with pytest.raises(DataError, match="1 rows of 2 columns; allowed: rows of 16 features and a label"):
        load_dataset("tabular", root)


def test_bench_run_trains_dwf_and_snip_on_them_and_a_report_names_the_data(tmp_path):
    example = _examples()
    data, results, out = tmp_path / "data", tmp_path / "results", tmp_path / "report"
    example.write_sample(data)
    common = [*PLUGINS, "--model", "mlp64", "--dataset", "tabular", "--data", str(data), "--epochs", "2",
              "--results", str(results)]
    for method in (["--method", "dwf", "--depth", "2", "--lam", "1e-4"], ["--method", "snip", "--compression", "10"]):
        done = bench("run", *common, *method)
        assert done.returncode == 0, done.stdout + done.stderr
    first = _identity(data)
    rows = _rows(results / "adhoc" / "rows")
    assert {r["method"] for r in rows} == {"dwf", "snip"}
    for row in rows:
        assert (row["model"], row["dataset"], row["status"]) == ("mlp64", "tabular", "ok")
        assert row["data_fingerprint"] == first.fingerprint and json.loads(row["data_sources"]) == first.sources
        assert json.loads(row["config_json"])["data_fingerprint"] == first.fingerprint  # in the config's hash
        assert row["total_params"] == MLP64_WEIGHTS  # the weights, as for a built-in (include_bias off)
    (snip,) = [r for r in rows if r["method"] == "snip"]
    assert round(snip["compression_ratio"]) == 10 and snip["nonzero_params"] < MLP64_WEIGHTS / 9

    _edit_one_label(data)  # other data: the same command trains again instead of finding the trial stored
    again = bench("run", *common, "--method", "snip", "--compression", "10")
    assert again.returncode == 0 and "already in the store" not in again.stdout, again.stdout + again.stderr
    second = _identity(data)
    newest = [r for r in _rows(results / "adhoc" / "rows") if r["data_fingerprint"] == second.fingerprint]
    assert second.fingerprint != first.fingerprint and len(newest) == 1
    assert newest[0]["config_hash"] != snip["config_hash"]

    reported = bench("report", "adhoc", *PLUGINS, "--results", str(results), "--out", str(out))
    assert reported.returncode == 0, reported.stdout + reported.stderr
    index = (out / "index.md").read_text()
    md5 = second.sources
    assert (f"tabular data {second.fingerprint} (tabular/test.csv md5 {md5['tabular/test.csv']}, "
            f"tabular/train.csv md5 {md5['tabular/train.csv']})") in index  # the newest trial's data
    assert first.fingerprint in index  # the other data, left out and named
    assert "MLP-64" in (out / "accuracy.md").read_text()  # the plugin's titles name the section


@pytest.mark.slow
def test_a_spec_sweeps_the_plugins_model_on_the_plugins_data(tmp_path):
    example = _examples()
    data, results, out = tmp_path / "data", tmp_path / "results", tmp_path / "report"
    example.write_sample(data)
    spec = write_spec(tmp_path, f"""\
        name: tabular_mlp
        model: mlp64
        dataset: tabular
        train: {{epochs: 1}}
        seeds: [0]
        plugins: ["{DATASET}", "{MODEL}"]
        methods:
          dwf: {{depth: [2], lam: [1.0e-4, 1.0e-3]}}
          snip: {{compression: [10]}}
        """)
    swept = bench("sweep", str(spec), "--results", str(results), "--data", str(data), "--num-cpus", "2")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    rows = _rows(results / "tabular_mlp" / "rows")
    assert len({r["config_hash"] for r in rows}) == 3  # 2 x dwf, 1 x snip
    assert {(r["model"], r["dataset"], r["data_fingerprint"]) for r in rows} == {
        ("mlp64", "tabular", _identity(data).fingerprint)}
    reported = bench("report", "tabular_mlp", *PLUGINS, "--results", str(results), "--out", str(out),
                     "--spec", str(spec))
    assert reported.returncode == 0, reported.stdout + reported.stderr
    accuracy = (out / "accuracy.md").read_text()
    assert "MLP-64" in accuracy and "Tabular (CSV)" in accuracy
    assert f"tabular data {_identity(data).fingerprint}" in (out / "index.md").read_text()
