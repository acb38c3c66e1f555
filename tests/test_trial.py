"""run_trial, the config contract, the store and the `bench run` command."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import suite.train as train_module
from suite.config import ConfigError, TrialConfig
from suite.methods.validation import validate_trial
from suite.results.store import ROW_SCHEMA, done_hashes, load_table, write_trial
from suite.train import run_trial

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _cfg(**overrides) -> TrialConfig:
    values = dict(model="lenet300", dataset="synthetic", method="dwf", depth=3, lam=1e-3, lr=0.3, epochs=2, seed=0)
    values.update(overrides)
    return TrialConfig(**values)


def test_same_seed_same_result_different_seed_different_result():
    a, b = run_trial(_cfg()), run_trial(_cfg())
    c = run_trial(_cfg(seed=1))
    keys = ["test_acc", "train_acc", "test_loss", "nonzero_params", "l2_norm", "misalignment"]
    assert [a.rows[0][k] for k in keys] == [b.rows[0][k] for k in keys]
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.rows[0]["l2_norm"] != c.rows[0]["l2_norm"]


def test_trial_rows_history_and_layers_are_consistent():
    result = run_trial(_cfg(epochs=2))
    (row,) = result.rows
    assert row["point"] == "final" and row["status"] == "ok" and row["depth"] == 3
    assert row["total_params"] == 266_200  # the counted set: Linear weights (biases uncounted by default)
    assert row["compression_ratio"] == pytest.approx(row["total_params"] / row["nonzero_params"])
    assert row["sparsity"] == pytest.approx(1 - row["nonzero_params"] / row["total_params"])
    assert 0 <= row["test_acc"] <= 1 and 0 <= row["train_acc"] <= 1
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert result.history[0]["lr"] == pytest.approx(0.3)  # cosine starts at the initial lr
    assert result.history[1]["lr"] == pytest.approx(0.3 * (1 + math.cos(math.pi / 2)) / 2)
    assert sum(layer["total_params"] for layer in result.layers) == row["total_params"]
    assert sum(layer["nonzero_params"] for layer in result.layers) == row["nonzero_params"]
    assert [layer["layer"] for layer in result.layers] == ["fc1", "fc2", "fc3"]  # the three Linear layers of lenet300


def test_spred_rows_record_depth_two():
    (row,) = run_trial(_cfg(method="spred", depth=None, epochs=1)).rows
    assert row["depth"] == 2 and row["method"] == "spred"


def test_diverged_run_is_a_recorded_result_at_chance():
    (row,) = run_trial(_cfg(method="dense", depth=None, lam=None, lr=1e6, epochs=2)).rows
    assert row["status"] == "diverged"
    assert row["test_acc"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"model": ""}, "model"),
        ({"lr": -1.0}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"depth": 1}, "depth"),
        ({"include_bias": "False"}, "include_bias"),
    ],
)
def test_a_malformed_field_is_rejected_when_the_config_is_made(overrides, field):
    with pytest.raises(ConfigError, match=f"'{field}'"):
        _cfg(**overrides)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"model": "lenet301"}, "model"),
        ({"method": "magic"}, "method"),
        ({"dataset": "imagenet22k"}, "dataset"),
        ({"depth": None}, "depth"),
        ({"lam": None}, "lam"),
        ({"method": "dense", "depth": 3, "lam": None}, "depth"),
        ({"method": "dense", "depth": None, "lam": None, "compressions": (10.0,)}, "compressions"),
        # Fields the method does not read must keep their defaults: a value there changes the hash only.
        ({"method": "dense", "depth": None, "lam": 0.5}, "lam"),
        ({"method": "l1", "depth": None, "weight_decay": 1e-4}, "weight_decay"),
        ({"method": "pilot", "depth": None, "weight_decay": 1e-4}, "weight_decay"),
    ],
)
def test_what_the_registries_reject_never_trains(overrides, field, monkeypatch):
    """Well-formed fields the registries reject: validate_trial names the field, and
    run_trial refuses before it loads any data."""
    cfg = _cfg(**overrides)
    with pytest.raises(ConfigError, match=f"'{field}'"):
        validate_trial(cfg)
    monkeypatch.setattr(train_module, "load_dataset", lambda *a, **k: pytest.fail("data loaded for an invalid config"))
    with pytest.raises(ConfigError, match=f"'{field}'"):
        run_trial(cfg)


@pytest.mark.parametrize(
    "overrides,field",
    [
        # A method's own parameter is no field of another method's config: a value there would change the
        # hash only (and a dense trial with `finetune_epochs` would not be GMP's dense reference).
        ({"method": "dense", "depth": None, "lam": None, "finetune_epochs": 25}, "finetune_epochs"),
        ({"method": "snip", "depth": None, "lam": None, "compressions": (10.0,), "finetune_epochs": 5},
         "finetune_epochs"),
        # The DWF init's fields mean nothing without factors, and spred's standard init truncates nothing.
        ({"method": "dense", "depth": None, "lam": None, "omega_min": 3e-3}, "omega_min"),
        ({"method": "snip", "depth": None, "lam": None, "compressions": (10.0,), "base_init": "lecun"}, "base_init"),
        ({"method": "l1", "depth": None, "base_init": "lecun"}, "base_init"),
        ({"method": "spred", "depth": None, "omega_min": 3e-3}, "omega_min"),
        ({"method": "spred", "depth": None, "omega_max": "factor"}, "omega_max"),
        ({"method": "gmp", "depth": None, "lam": None, "compressions": (10.0,), "finetune_epochs": 5,
          "omega_max": "factor"}, "omega_max"),
    ],
)
def test_a_parameter_of_another_method_is_refused_when_the_config_is_made(overrides, field):
    with pytest.raises(ConfigError, match=f"'{field}' = .* does not read it"):
        _cfg(**overrides)


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ConfigError, match="lambda"):
        TrialConfig.from_dict({**_cfg().to_dict(), "lambda": 1.0})


def test_config_hash_is_stable_and_ignores_key_order_and_sweep():
    cfg = _cfg()
    values = cfg.to_dict()
    reordered = TrialConfig.from_dict(dict(reversed(list(values.items()))))
    assert reordered.config_hash == cfg.config_hash
    assert _cfg(sweep="other").config_hash == cfg.config_hash
    assert _cfg(lam=2e-3).config_hash != cfg.config_hash
    code = ("from suite.config import TrialConfig as T; print(T(model='lenet300', dataset='synthetic', method='dwf', "
            "depth=3, lam=1e-3, lr=0.3, epochs=2).config_hash)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == cfg.config_hash


def test_store_writes_atomically_and_ignores_partial_files(tmp_path):
    result = run_trial(_cfg(epochs=1))
    path = write_trial(tmp_path, "s", result)
    # A crash mid-write leaves only a hidden temp file, which is never read as a result.
    (path.parent / f".{path.name}.abc.tmp").write_bytes(b"PAR1 half a file")
    assert done_hashes(tmp_path, "s") == {result.config_hash}
    rows = load_table(tmp_path, "s")
    assert len(rows) == 1 and set(ROW_SCHEMA.names) <= set(rows.columns)
    assert len(load_table(tmp_path, "s", "history")) == 1
    assert len(load_table(tmp_path, "s", "layers")) == 3


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "FashionMNIST").is_dir(), reason="shared Fashion-MNIST not beside the repo")
def test_bench_run_on_real_fashion_mnist(tmp_path):
    """One short DWF trial on the shared Fashion-MNIST through the CLI, end to end."""
    cmd = [sys.executable, "-m", "suite.cli.main", "run", "--model", "lenet300", "--dataset", "fmnist",
           "--method", "dwf", "--depth", "2", "--lam", "1e-4", "--lr", "0.15", "--epochs", "1",
           "--data", str(SHARED_DATA), "--results", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    files = list((tmp_path / "adhoc" / "rows").glob("*.parquet"))
    assert len(files) == 1
    row = pq.read_table(files[0]).to_pandas().iloc[0]
    assert row["dataset"] == "fmnist" and row["method"] == "dwf" and row["depth"] == 2
    assert row["test_acc"] > 0.75  # one epoch of LeNet-300-100 on F-MNIST learns well past chance
    assert row["total_params"] == 266_200  # the counted set: Linear weights (biases uncounted by default)
    assert "test_acc" in proc.stdout


def test_bench_run_missing_data_is_a_clear_error(tmp_path):
    cmd = [sys.executable, "-m", "suite.cli.main", "run", "--model", "lenet300", "--dataset", "kmnist",
           "--method", "dense", "--epochs", "1", "--no-download", "--data", str(tmp_path / "nowhere"),
           "--results", str(tmp_path / "r")]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "nowhere" in proc.stderr and "BENCH_DATA" in proc.stderr


def test_bench_run_bad_method_lists_allowed(tmp_path):
    cmd = [sys.executable, "-m", "suite.cli.main", "run", "--model", "lenet300", "--dataset", "synthetic",
           "--method", "magic", "--results", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert proc.returncode == 2
    assert "magic" in proc.stderr and "dwf" in proc.stderr


def test_compression_targets_are_a_set_in_ascending_order():
    """The ladders and gmp_oneshot evaluate targets sorted and once each, so their order and repeats
    must not make a different trial (hash), nor a repeat a duplicate row."""
    base = dict(model="lenet300", dataset="synthetic", method="gmp_oneshot")
    mixed = TrialConfig(**base, compressions=(100, 10.0, 100.0))
    assert mixed.compressions == (10.0, 100.0)
    assert mixed.config_hash == TrialConfig(**base, compressions=(10, 100)).config_hash
