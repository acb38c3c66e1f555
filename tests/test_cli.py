"""The `bench` commands: `run` options generated from the config metadata, `list`, `report`."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import click
import pandas as pd
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from suite.cli.main import app, catalog
from suite.cli.run import METHOD_OPTIONS, config_from_options
from suite.config import DEFAULTS, FIELDS, TrialConfig, at_default, field_info

REFERENCE = Path(__file__).resolve().parents[1] / "results"  # the reference stores and the archived ones


def _run_command() -> click.Command:
    return typer.main.get_command(app).commands["run"]


def _flag(name: str) -> str:
    return "--" + (field_info(name).singular or name).replace("_", "-")


def _argv(cfg: TrialConfig) -> list[str]:
    """`bench run` arguments for `cfg`: every field that differs from its default, as a user would type it."""
    argv = []
    for name, value in cfg.to_dict().items():
        if name in ("model", "dataset", "method") or not at_default(name, value):
            info = field_info(name)
            if isinstance(value, bool):
                on, off = info.flags.split("/") if info.flags else (_flag(name), "--no-" + _flag(name)[2:])
                argv.append(on if value else off)
            elif info.singular:
                for item in value:
                    argv += [_flag(name), repr(item)]
            else:
                argv += [_flag(name), repr(value) if isinstance(value, float) else str(value)]
    return argv


def _parsed(argv: list[str]) -> TrialConfig:
    """The config `bench run` would train for `argv` (parsed by click, without running)."""
    params = _run_command().make_context("run", list(argv)).params
    return config_from_options({k: v for k, v in params.items() if k in FIELDS or k in METHOD_OPTIONS},
                               params["param"])


def test_bench_run_has_an_option_for_every_config_field():
    options = {p.name for p in _run_command().params}
    assert set(FIELDS) <= options
    # The fields the hand-written options used to miss, so `bench run` could not reproduce those trials.
    help_text = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).output
    for flag in ("--momentum", "--schedule", "--pilot-budget", "--weight-decay", "--finetune-epochs",
                 "--include-bias", "--exclude-bias", "--compression", "--omega-min", "--base-init"):
        assert flag in help_text


def test_bench_run_defaults_are_the_config_defaults():
    cfg = _parsed(["--model", "lenet300", "--dataset", "synthetic", "--method", "dense"])
    assert cfg == TrialConfig(model="lenet300", dataset="synthetic", method="dense")


def _stored_configs() -> list[dict]:
    configs = {}
    for path in sorted(REFERENCE.glob("**/rows/*.parquet")):
        for row in pq.read_table(path, columns=["config_hash", "config_json"]).to_pylist():
            configs[row["config_hash"]] = json.loads(row["config_json"])
    return list(configs.values())


def test_every_stored_sweep_trial_round_trips_through_bench_run_options():
    stored = _stored_configs()
    assert len(stored) >= 20, f"expected the committed reference store under {REFERENCE}"
    for values in stored:
        cfg = TrialConfig.from_dict(values)
        assert _parsed(_argv(cfg)) == cfg


def test_a_config_with_every_field_set_round_trips():
    changed = TrialConfig(
        model="lenet5", dataset="fmnist", method="dwf", seed=3, epochs=7, batch_size=64, lr=0.2, momentum=0.5,
        schedule="constant", lam=3e-4, depth=3, compressions=(10.0, 123.456), omega_min=0.01, base_init="lecun",
        omega_max="factor", include_bias=True, weight_decay=5e-4, data_fingerprint="0123456789abcdef",
        sweep="other")
    assert all(getattr(changed, n) != DEFAULTS[n] for n in FIELDS)
    assert _parsed(_argv(changed)) == changed
    # Every built-in method parameter, on the methods that have it.
    for method, own in (("gmp", {"finetune_epochs": 2}), ("snip", {"snip_examples": 100}),
                        ("pilot", {"pilot_schedule": "harmonic", "pilot_budget": 0.2, "lam": 1e-3})):
        cfg = TrialConfig(model="lenet300", dataset="synthetic", method=method, compressions=(10.0,), **own)
        assert _parsed(_argv(cfg)) == cfg
    assert {name for name in METHOD_OPTIONS} == {"finetune_epochs", "snip_examples", "pilot_schedule",
                                                 "pilot_budget", "omega_min", "omega_max", "base_init"}


def test_a_method_parameter_defaults_to_the_methods_own():
    """`bench run --method gmp --compression 100` retrains for GMP's own default, a third of the epochs (it
    used to stop at `finetune_epochs = 0 is not allowed` while --help said `[default: 0]`)."""
    cfg = _parsed(["--model", "lenet300", "--dataset", "synthetic", "--method", "gmp", "--compression", "100"])
    assert cfg.finetune_epochs == 25 and cfg == TrialConfig(model="lenet300", dataset="synthetic", method="gmp",
                                                            compressions=(100.0,), finetune_epochs=25)
    quick = _parsed(["--model", "lenet300", "--dataset", "synthetic", "--method", "gmp", "--compression", "100",
                     "--epochs", "1"])
    assert quick.finetune_epochs == 1
    assert _parsed(["--model", "lenet300", "--dataset", "synthetic", "--method", "snip", "--compression", "10",
                    "--param", "snip_examples=100"]).snip_examples == 100
    option = next(p for p in _run_command().params if p.name == "finetune_epochs")
    assert option.default is None and "a third of the training epochs" in option.help
    assert "gmp only; default: the method's own" in option.help


def test_bench_run_rejects_what_no_method_can_train(tmp_path):
    result = CliRunner().invoke(app, ["run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dwf",
                                      "--lam", "1e-3", "--results", str(tmp_path)])
    assert result.exit_code == 2
    assert "'depth'" in result.output and not any(tmp_path.iterdir())


def test_catalog_lists_every_registered_model_dataset_and_method():
    from suite.core.data.registry import DATASETS
    from suite.core.models.registry import MODELS
    from suite.builtins import METHODS

    listed = catalog()
    assert [m["name"] for m in listed["models"]] == sorted(MODELS)
    assert [d["name"] for d in listed["datasets"]] == sorted(DATASETS)
    assert [m["name"] for m in listed["methods"]] == sorted(METHODS)
    lenet300 = next(m for m in listed["models"] if m["name"] == "lenet300")
    assert lenet300["parameters"] == 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10
    needs = {m["name"]: m["needs"] for m in listed["methods"]}
    assert needs["dwf"] == ["depth", "lam"] and needs["gmp"] == ["compression"] and needs["dense"] == []


def test_bench_list_prints_every_catalog_entry():
    result = CliRunner().invoke(app, ["list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    words = set(result.output.split())
    for rows in catalog().values():
        assert {row["name"] for row in rows} <= words


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A sweep of two one-epoch trials on synthetic data."""
    from suite.results.store import write_trial
    from suite.train import run_trial

    root = tmp_path_factory.mktemp("results")
    for cfg in (TrialConfig(model="lenet300", dataset="synthetic", method="dense", epochs=1, sweep="clitest"),
                TrialConfig(model="lenet300", dataset="synthetic", method="dwf", depth=2, lam=1e-4, epochs=1,
                            sweep="clitest")):
        write_trial(root, cfg.sweep, run_trial(cfg))
    return root


def test_bench_report_writes_the_tables_it_is_asked_for(store, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", "clitest", "--results", str(store), "--out", str(out),
                                      "--table", "accuracy"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["accuracy.csv", "accuracy.md", "accuracy.tex", "index.html",
                                                       "index.md"]
    table = pd.read_csv(out / "accuracy.csv")
    assert list(zip(table["model"], table["dataset"], table["label"])) == [
        ("lenet300", "synthetic", "Dense"), ("lenet300", "synthetic", "DWF (D=2)")]


def test_bench_report_writes_table_1_at_absolute_thresholds_too(store, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", "clitest", "--results", str(store), "--out", str(out),
                                      "--table", "compression", "--absolute", "84.12", "--absolute", "5"])
    assert result.exit_code == 0, result.output
    absolute = pd.read_csv(out / "compression_absolute.csv")
    assert list(absolute["label"]) == ["Dense", "DWF (D=2)"]
    assert {"cr@84.12%", "cr@5%"} <= set(absolute.columns)
    alone = tmp_path / "alone"  # a registered table like the others: it can be asked for by name
    result = CliRunner().invoke(app, ["report", "clitest", "--results", str(store), "--out", str(alone),
                                      "--table", "compression_absolute", "--absolute", "84.12"])
    assert result.exit_code == 0, result.output
    assert {p.stem for p in alone.iterdir()} == {"compression_absolute", "index"}


@pytest.mark.parametrize("args, problem", [
    (["--table", "speed"], "--table speed not known; allowed: compression, compression_absolute, accuracy"),
    (["--plot", "bars"], "--plot bars not known; allowed: pareto, layers, dynamics"),
    (["--eps", "0"], "--eps 0: allowed"),
    (["--absolute", "120"], "--absolute 120: allowed: a test accuracy in percent in (0, 100]"),
    (["--table", "compression_absolute"], "--table compression_absolute: needs the thresholds, --absolute"),
])
def test_bench_report_refuses_unknown_tables_plots_and_eps(store, tmp_path, args, problem):
    result = CliRunner().invoke(app, ["report", "clitest", "--results", str(store), "--out", str(tmp_path / "o"),
                                      *args], env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert problem in result.output and not (tmp_path / "o").exists()


def test_bench_report_on_a_sweep_without_results_names_those_that_have_some(store, tmp_path):
    result = CliRunner().invoke(app, ["report", "nosuch", "--results", str(store), "--out", str(tmp_path / "o")],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "sweeps with results there: ['clitest']" in result.output


def test_bench_run_skips_a_stored_trial_unless_rerun(tmp_path):
    """Nothing finished is trained twice: a second `bench run` of the same config prints the stored
    result and leaves its file alone; --rerun trains it again and replaces it."""
    args = ["run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dense", "--epochs", "1",
            "--results", str(tmp_path)]
    runner = CliRunner()
    first = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    (rows_file,) = (tmp_path / "adhoc" / "rows").glob("*.parquet")
    stored = rows_file.read_bytes()
    second = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert second.exit_code == 0, second.output
    assert "already in the store" in second.output and "wrote" not in second.output
    assert rows_file.read_bytes() == stored
    third = runner.invoke(app, args + ["--rerun"], env={"COLUMNS": "200"})
    assert third.exit_code == 0, third.output
    assert "wrote 1 row(s)" in third.output
    assert pq.read_table(rows_file).to_pylist()[0]["created_at"] \
        > pq.read_table(BytesIO(stored)).to_pylist()[0]["created_at"]


def test_bench_run_logs_one_line_per_epoch_with_the_time_left_once_known(tmp_path):
    """In a log (no terminal) each epoch is a line; after the first epoch the pace is unknown, and
    the line says "?" rather than a time left of 0s."""
    result = CliRunner().invoke(app, ["run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dense",
                                      "--epochs", "2", "--results", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]
    assert lines[0].endswith("left ?")


def test_bench_run_trains_on_the_threads_asked_for(tmp_path, monkeypatch):
    """A CPU trial re-runs to the same number only on the thread count it was trained with (float
    reductions differ): --threads sets torch's, 1 by default as in a sweep trial of one CPU."""
    import torch

    import suite.train

    seen, real = [], suite.train.run_trial

    def recording(cfg, **kw):
        seen.append(torch.get_num_threads())
        return real(cfg, **kw)

    monkeypatch.setattr(suite.train, "run_trial", recording)
    base = ["run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dense", "--epochs", "1", "--rerun",
            "--results", str(tmp_path)]
    try:
        for extra in (["--threads", "2"], []):
            result = CliRunner().invoke(app, base + extra, env={"COLUMNS": "200"})
            assert result.exit_code == 0, result.output
    finally:
        torch.set_num_threads(1)  # the suite's setting (conftest)
    assert seen == [2, 1]
    refused = CliRunner().invoke(app, base + ["--threads", "0"])
    assert refused.exit_code == 2 and "--threads 0: allowed: an integer >= 1" in refused.output
