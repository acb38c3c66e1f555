"""The paper's protocol: GMP = train, prune, retrain with one dense run per seed;
one counting convention for every method; grids that contain Table 2's levels;
a config hash that survives new fields and int/float spelling."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
import torch

import suite.train as train_module
from suite.methods.masks import counted_parameters, keep_count
from suite.results.checkpoints import CheckpointCache
from suite.config import PARAMS, ConfigError, TrialConfig, is_number, setting
from suite.core.dwf.factorization import prunable_layers
from suite.grid import TABLE2_LEVELS
from suite.builtins import METHODS
from suite.methods.dense import DenseReferenceError, dense_reference, trained_dense_state
from suite.methods.dwf import DWFParams
from suite.methods.validation import validate_trial
from suite.core.models.registry import build_model
from suite.sweep.expansion import expand
from suite.sweep.loading import available_sweeps, load_spec

BASE = {"model": "lenet300", "dataset": "synthetic", "epochs": 1, "batch_size": 256, "lr": 0.1}


def cfg(method: str, **kw) -> TrialConfig:
    return TrialConfig(**{**BASE, "method": method, **kw})


@pytest.fixture
def count_training(monkeypatch):
    """Counts calls of the training loop (dense runs and retraining alike)."""
    calls = []
    original = train_module.train

    def counting(*args, **kwargs):
        calls.append(kwargs.get("epochs"))
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "train", counting)
    return calls


def test_gmp_shares_the_dense_trial_of_its_seed_and_keeps_its_mask(tmp_path, count_training):
    cache = CheckpointCache(tmp_path)
    dense = cfg("dense", seed=3)
    train_module.run_trial(dense, checkpoints=cache)
    assert cache.get(dense.config_hash) is not None  # the dense trial deposits its weights
    count_training.clear()
    for target in (10.0, 100.0):
        gmp = cfg("gmp", seed=3, compressions=(target,), finetune_epochs=2)
        assert dense_reference(gmp).config_hash == dense.config_hash
        row = train_module.run_trial(gmp, checkpoints=cache).rows[0]
        # exact mask after retraining: keep_count of the counted set, no more, no fewer
        assert row["nonzero_params"] == keep_count(row["total_params"], target)
    assert count_training == [2, 2]  # only the retraining ran: no dense run per target


def test_gmp_without_cache_trains_the_same_dense_network(tmp_path):
    """A GMP trial that finds no checkpoint trains exactly the dense trial's network."""
    cache = CheckpointCache(tmp_path)
    dense = cfg("dense", seed=1)
    train_module.run_trial(dense, checkpoints=cache)
    from suite.core.data.registry import load_dataset

    context = train_module.trial_context(load_dataset("synthetic"), torch.device("cpu"), None)
    fresh = trained_dense_state(cfg("gmp", seed=1, compressions=(10.0,), finetune_epochs=1), context)
    stored = cache.get(dense.config_hash)
    assert stored.keys() == fresh.keys()
    for key in stored:
        torch.testing.assert_close(stored[key], fresh[key], rtol=0, atol=0)


def test_gmp_and_gmp_oneshot_are_told_apart():
    with pytest.raises(ConfigError, match="finetune_epochs.*gmp_oneshot"):
        validate_trial(cfg("gmp", compressions=(10.0,), finetune_epochs=0))
    with pytest.raises(ConfigError, match="finetune_epochs.*method 'gmp_oneshot' does not read it.*: gmp"):
        validate_trial(cfg("gmp_oneshot", compressions=(10.0,), finetune_epochs=5))
    from suite.methods.labels import method_label

    assert method_label("gmp", None, "final") != method_label("gmp_oneshot", None, "posthoc")


def _method_cfg(name: str, **kw) -> TrialConfig:
    method = METHODS[name]
    fields = {}
    if "lam" in method.requires:
        fields["lam"] = 1e-4
    if method.uses_depth:
        fields["depth"] = 2
    if method.compressions in ("one", "many"):
        fields["compressions"] = (20.0,)
    if name == "gmp":
        fields["finetune_epochs"] = 1
    return cfg(name, **{**fields, **kw})


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_counts_weights_only_by_default(method):
    """One convention: the compression ratio counts Linear/Conv weights; biases stay
    trainable and uncounted unless include_bias (then they count and can be pruned)."""
    model = build_model("lenet300", 10, (1, 28, 28))
    weights = sum(m.weight.numel() for _, m in prunable_layers(model))
    biases = sum(m.bias.numel() for _, m in prunable_layers(model) if m.bias is not None)
    row = train_module.run_trial(_method_cfg(method)).rows[0]
    assert row["total_params"] == weights
    with_bias = train_module.run_trial(_method_cfg(method, include_bias=True)).rows[0]
    assert with_bias["total_params"] == weights + biases


@pytest.mark.parametrize("method", ["snip", "synflow", "random"])
def test_prune_at_init_leaves_biases_trainable(method):
    """As the reference pruners: weights scored and pruned, biases never masked."""
    c = _method_cfg(method, compressions=(1000.0,))
    model = build_model("lenet300", 10, (1, 28, 28))
    from suite.core.data.registry import load_dataset

    prepared = METHODS[method].prepare(c, model, torch.Generator().manual_seed(0), load_dataset("synthetic"))
    masked = {id(p) for _, p in counted_parameters(model, include_bias=False)}
    assert len(prepared.state["masks"]) == len(masked)  # one mask per weight, none for a bias
    biases = [m.bias for _, m in prunable_layers(model)]
    assert all(id(b) not in masked for b in biases)
    assert all(any(b is p for g in prepared.param_groups for p in g["params"]) for b in biases)


@pytest.mark.parametrize("name", available_sweeps())
def test_shipped_specs_train_table2_levels(name):
    spec = load_spec(name)
    for block in spec.methods:
        method = METHODS[block.name]
        if method.compressions == "one":
            trained = {c.compressions[0] for c in expand(spec, placeholder_lr=True) if c.method == block.name}
            missing = set(TABLE2_LEVELS) - trained
            if name not in ("smoke", "preview_fmnist"):  # quick looks: a few targets, not the paper's levels
                assert not missing, f"{name}: {block.name} does not train Table 2's levels {sorted(missing)}"


def test_hash_ignores_int_float_spelling_and_defaults():
    assert cfg("dense", lr=1).config_hash == cfg("dense", lr=1.0).config_hash
    assert cfg("dense", weight_decay=0).config_hash == cfg("dense").config_hash
    assert cfg("dense", weight_decay=1e-4).config_hash != cfg("dense").config_hash
    assert "weight_decay" not in cfg("dense").identity() and "sweep" not in cfg("dense").identity()
    assert cfg("dense", sweep="a").config_hash == cfg("dense", sweep="b").config_hash


def test_a_new_parameter_with_a_default_keeps_every_stored_hash(monkeypatch):
    """A knob a method gains after its trials were stored leaves their hashes (and config_json) as they were."""
    @dataclass(frozen=True)
    class Upgraded(DWFParams):
        some_new_knob: float = setting(0.5, help="A knob added after trials were stored.", accepts=is_number,
                                       allowed="a number")

    old = cfg("dwf", depth=3, lam=1e-3)
    monkeypatch.setitem(PARAMS, "dwf", Upgraded)
    new = TrialConfig.from_dict(old.to_dict())
    assert new.some_new_knob == 0.5 and new.config_hash == old.config_hash and new.to_dict() == old.to_dict()
    assert dataclasses.replace(new, some_new_knob=0.7).config_hash != old.config_hash


@pytest.mark.parametrize("field,value", [("lr", True), ("lam", True), ("omega_min", "x"), ("compressions", None),
                                         ("lr", float("inf")), ("weight_decay", -1.0)])
def test_malformed_numbers_are_config_errors(field, value):
    kw = {"lam": 1e-4, "depth": 2} if field != "compressions" else {"compressions": None}
    kw[field] = value
    with pytest.raises(ConfigError, match=field):
        cfg("dwf" if field != "compressions" else "snip", **kw)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_default_omega_min_bounds_the_product_and_an_explicit_one_the_factor(depth):
    """App. G.2's 3e-3 read as Algorithm 1's eps on |product|: every factor starts
    above (3e-3)^(1/D); an explicit omega_min is the factor bound itself."""
    from suite.core.dwf.factorization import factor_parameters, factor_bound, factorize

    assert factor_bound(None, depth) == pytest.approx(3e-3 ** (1 / depth))
    for omega_min, bound in ((None, 3e-3 ** (1 / depth)), (3e-3, 3e-3)):
        model = build_model("lenet300", 10, (1, 28, 28))
        factorize(model, depth, omega_min=omega_min, generator=torch.Generator().manual_seed(0))
        smallest = min(float(p.detach().abs().min()) for p in factor_parameters(model))
        assert bound < smallest < 1.3 * bound  # truncated right at the bound, not above it
    assert cfg("dwf", depth=depth, lam=1e-3).config_hash \
        != cfg("dwf", depth=depth, lam=1e-3, omega_min=3e-3).config_hash


def test_a_damaged_checkpoint_is_moved_aside_and_the_dense_network_trained_again(tmp_path, count_training):
    cache = CheckpointCache(tmp_path)
    gmp = cfg("gmp", seed=4, compressions=(10.0,), finetune_epochs=1)
    key = dense_reference(gmp).config_hash
    damaged = tmp_path / "checkpoints" / f"{key}.pt"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not a checkpoint" * 7)
    with pytest.warns(UserWarning, match="damaged dense checkpoint.*cannot be loaded"):
        train_module.run_trial(gmp, checkpoints=cache)
    assert len(count_training) == 2  # the dense run, then the retraining
    moved = list((tmp_path / "checkpoints" / "damaged").rglob(f"{key}.pt"))
    assert len(moved) == 1 and moved[0].read_bytes() == b"not a checkpoint" * 7  # kept, never deleted
    assert cache.get(key) is not None  # the dense run deposited a good one
    count_training.clear()
    train_module.run_trial(cfg("gmp", seed=4, compressions=(100.0,), finetune_epochs=1), checkpoints=cache)
    assert count_training == [1]  # the next target reuses it


def test_the_dense_trial_trains_under_its_checkpoint_lock_and_keeps_a_copy_already_there(tmp_path, monkeypatch):
    """A GMP trial of the seed that came first deposited the network its targets start from: the dense
    trial (which still trains, for its own rows and history) must not replace it, and it holds the lock
    while training so that a GMP trial arriving meanwhile waits for its network instead of training one."""
    cache = CheckpointCache(tmp_path)
    dense = cfg("dense", seed=5)
    first = {"sentinel": torch.zeros(1)}
    cache.put(dense.config_hash, first)
    held = []
    original = CheckpointCache.lock

    def recording_lock(self, key):
        held.append(key)
        return original(self, key)

    monkeypatch.setattr(CheckpointCache, "lock", recording_lock)
    train_module.run_trial(dense, checkpoints=cache)
    assert held == [dense.config_hash]
    assert cache.get(dense.config_hash).keys() == first.keys()


def test_a_diverged_dense_reference_is_recorded_once_and_its_gmp_trials_fail_at_once(tmp_path, monkeypatch):
    """A dense run that diverges has no network to prune: the first GMP target that trains it says so
    and records it, the next targets (and runs) fail at once instead of training it again each time."""
    original, calls = train_module.train, []

    def diverging_dense(cfg, prepared, *args, **kwargs):
        calls.append(cfg.method)
        return ([], "diverged") if cfg.method == "dense" else original(cfg, prepared, *args, **kwargs)

    monkeypatch.setattr(train_module, "train", diverging_dense)
    cache = CheckpointCache(tmp_path)
    first = cfg("gmp", seed=6, compressions=(10.0,), finetune_epochs=1)
    key = dense_reference(first).config_hash
    with pytest.raises(DenseReferenceError, match=f"dense trial {key}.*ended diverged"):
        train_module.run_trial(first, checkpoints=cache)
    assert calls == ["dense"] and cache.outcome(key) == "diverged"
    with pytest.raises(DenseReferenceError, match="delete it to train it again"):
        train_module.run_trial(cfg("gmp", seed=6, compressions=(100.0,), finetune_epochs=1), checkpoints=cache)
    assert calls == ["dense"]  # not trained again
    # The dense trial itself records its divergence too, so GMP never needs to find it out.
    dense = cfg("dense", seed=7)
    rows = train_module.run_trial(dense, checkpoints=cache).rows
    assert rows[0]["status"] == "diverged" and cache.outcome(dense.config_hash) == "diverged"


def test_an_unreadable_dense_run_record_is_moved_aside(tmp_path):
    cache = CheckpointCache(tmp_path)
    cache.put_outcome("abc", "diverged")
    assert cache.outcome("abc") == "diverged"
    (tmp_path / "checkpoints" / "abc.json").write_text('{"status": ')
    with pytest.warns(UserWarning, match="damaged dense-run record"):
        assert cache.outcome("abc") is None
    assert not (tmp_path / "checkpoints" / "abc.json").exists()
    assert len(list((tmp_path / "checkpoints" / "damaged").rglob("abc.json"))) == 1
