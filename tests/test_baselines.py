"""The comparison methods (suite/methods/): masks, scores, schedules, evaluation points."""

from __future__ import annotations

import copy
import functools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from suite.methods import pilot, snip, synflow
from suite.methods.masks import (
    DEFAULT_LADDER, counted_parameters, global_topk_mask, keep_count, magnitude_masks, magnitude_pruned,
    masked_prepared, posthoc_ladder,
)
from suite.config import ConfigError, TrialConfig
from suite.core.bundle import DataBundle
from suite.core.data import load_dataset
from suite.methods.base import METHODS, kaiming_init
from suite.methods.validation import validate_trial
from suite.core.metrics import sparsity_stats
from suite.core.models import build_model
from suite.train import run_trial

# From the registry, so a new method of a kind is tested without editing a list.
# One target per trial: the method prunes to it (a mask), then trains with the mask fixed.
PRUNING = [m.name for m in METHODS.values() if m.compressions == "one"]
# ... pruning a fresh network, not the trained dense one (GMP).
PRUNE_AT_INIT = [name for name in PRUNING if not METHODS.get(name).dense_start]
# Inherent sparsity, then post-hoc pruning at increasing targets (L1, PILoT).
POSTHOC_LADDER = [m.name for m in METHODS.values() if m.compressions == "optional"]
SHAPE = (1, 28, 28)


@pytest.fixture(scope="module")
def data():
    return load_dataset("synthetic")


def lenet300() -> nn.Module:
    return build_model("lenet300", 10, SHAPE)


def cfg_for(method: str, **kw) -> TrialConfig:
    base = {"model": "lenet300", "dataset": "synthetic", "method": method, "epochs": 1, "batch_size": 256, "lr": 0.1}
    if "lam" in METHODS.get(method).requires:
        base["lam"] = 1e-4
    if method == "gmp":
        base["finetune_epochs"] = 1
    base.update(kw)
    return TrialConfig(**base)


def counted(model, include_bias=True):
    return [p for _, p in counted_parameters(model, include_bias)]


@functools.lru_cache(maxsize=None)
def synflow_lenet300(seed: int, target: float) -> tuple[torch.Tensor, ...]:
    """SynFlow's masks for LeNet-300-100 after Kaiming init from `seed`, computed
    once per (seed, target): SynFlow's 100 rounds dominate this file's run time."""
    model = lenet300()
    kaiming_init(model, torch.Generator().manual_seed(seed))
    return tuple(synflow.synflow_masks(model, target, SHAPE))


def prepared_masks(method: str, target: float, data, seed: int = 0, include_bias: bool = True, cached: bool = True):
    """(model, Prepared, masks) of a pruning method at one target.

    gmp: Kaiming init, a few dense SGD steps (so its biases are nonzero, as
    after training), then the pruned copy GMP evaluates, set up for
    fine-tuning with its mask. synflow (include_bias, cached): the method's
    `prepare` steps with the masks from `synflow_lenet300`.
    """
    cfg = cfg_for(method, compressions=(target,), include_bias=include_bias)
    model = lenet300()
    generator = torch.Generator().manual_seed(seed)
    if method == "synflow" and include_bias and cached:
        kaiming_init(model, generator)
        prepared = masked_prepared(cfg, model, [m.clone() for m in synflow_lenet300(seed, target)])
        return model, prepared, prepared.state["masks"]
    if method == "gmp":
        kaiming_init(model, generator)
        sgd_steps(model, data, steps=3)
        pruned, masks = magnitude_pruned(model, target, include_bias)
        return pruned, masked_prepared(cfg, pruned, masks), masks
    prepared = METHODS.get(method).prepare(cfg, model, generator, data)
    return model, prepared, prepared.state["masks"]


def sgd_steps(model, data, steps=3, prepared=None, use_after_step=True, lr=0.1):
    groups = prepared.param_groups if prepared else [{"params": list(model.parameters())}]
    optimizer = torch.optim.SGD(groups, lr=lr, momentum=0.9)
    generator = torch.Generator().manual_seed(123)
    model.train()
    for step, (x, y) in enumerate(data.train_batches(256, generator)):
        if step == steps:
            break
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if prepared and prepared.after_step and use_after_step:
            prepared.after_step()
    return optimizer


# --------------------------------------------------------------------------- mask machinery


def test_keep_count_and_exact_topk_with_ties():
    assert keep_count(266_610, 1000) == 267
    assert keep_count(100, 1e5) == 1  # never zero
    scores = [torch.ones(3, 4), torch.tensor([5.0, 1.0, 1.0]), torch.zeros(2)]
    masks = global_topk_mask(scores, 6)
    assert sum(int(m.sum()) for m in masks) == 6
    # 5.0 is kept, then ties at 1.0 broken by position: the first five ones of tensor 0.
    assert masks[1].tolist() == [True, False, False]
    assert masks[0].flatten().tolist() == [True] * 5 + [False] * 7
    masks = global_topk_mask(scores, 12)  # the other selection branch (keep > n / 2)
    assert masks[0].flatten().tolist() == [True] * 11 + [False]
    assert masks[1].tolist() == [True, False, False] and masks[2].tolist() == [False, False]
    # NaN never beats a number; -inf (already pruned) never beats 0.
    masks = global_topk_mask([torch.tensor([float("nan"), -math.inf, 0.0, 2.0])], 2)
    assert masks[0].tolist() == [False, False, True, True]


# --------------------------------------------------------------------------- achieved sparsity


@pytest.mark.parametrize("target", [10.0, 1000.0, 1e4])
@pytest.mark.parametrize("method", PRUNING)
def test_achieved_sparsity_matches_target(method, target, data):
    model, prepared, masks = prepared_masks(method, target, data)
    total = sum(p.numel() for p in counted(model))
    keep = keep_count(total, target)
    assert sum(int(m.sum()) for m in masks) == keep
    assert abs(keep - total / target) <= 1  # within one parameter of the target
    stats = sparsity_stats(model)
    assert stats.total == total
    if method == "random":
        # Kept biases start at zero (Kaiming init), so they are not yet counted.
        kept_zero = sum(int((m & (p == 0)).sum()) for m, p in zip(masks, counted(model)))
        assert stats.nonzero == keep - kept_zero
    else:
        # SNIP/SynFlow score zero biases 0 (pruned first); GMP prunes trained weights.
        assert stats.nonzero == keep
        assert abs(stats.nonzero - total / target) <= 1


@pytest.mark.parametrize("target", [10.0, 1000.0])
def test_random_achieved_sparsity_without_biases(target, data):
    model, _, masks = prepared_masks("random", target, data, include_bias=False)
    total = sum(p.numel() for p in counted(model, include_bias=False))
    assert sparsity_stats(model, include_bias=False).nonzero == keep_count(total, target)


# --------------------------------------------------------------------------- masks hold


@pytest.mark.parametrize("use_after_step", [True, False])
@pytest.mark.parametrize("method", PRUNING)
def test_masks_hold_during_training(method, use_after_step, data):
    model, prepared, masks = prepared_masks(method, 10.0, data)
    before = [p.detach().clone() for p in counted(model)]
    optimizer = sgd_steps(model, data, steps=4, prepared=prepared, use_after_step=use_after_step)
    params = counted(model)
    for param, mask in zip(params, masks):
        assert torch.all(param[~mask] == 0)
        # Gradient hooks keep the momentum of pruned entries exactly zero.
        assert torch.all(optimizer.state[param]["momentum_buffer"][~mask] == 0)
    assert any(not torch.equal(p, b) for p, b in zip(params, before))  # it did train


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("method", PRUNING)
def test_same_seed_same_mask(method, data):
    _, _, first = prepared_masks(method, 10.0, data, seed=0)
    _, _, again = prepared_masks(method, 10.0, data, seed=0, cached=False)
    _, _, other = prepared_masks(method, 10.0, data, seed=1, cached=False)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


# --------------------------------------------------------------------------- SNIP


def test_snip_scores_are_abs_gradient_times_weight_by_hand():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape))
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    w1, b1, w2, b2 = (p.detach() for p in net.parameters())
    # Backpropagation of the mean cross-entropy by hand.
    z1 = x @ w1.T + b1
    h = z1.clamp(min=0)
    logits = h @ w2.T + b2
    d_logits = (torch.softmax(logits, 1) - F.one_hot(y, 2).float()) / x.shape[0]
    g_w2, g_b2 = d_logits.T @ h, d_logits.sum(0)
    d_z1 = (d_logits @ w2) * (z1 > 0).float()
    g_w1, g_b1 = d_z1.T @ x, d_z1.sum(0)
    expected = [(g_w1 * w1).abs(), (g_b1 * b1).abs(), (g_w2 * w2).abs(), (g_b2 * b2).abs()]
    scores = snip.snip_scores(net, x, y)
    for got, want in zip(scores, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    # Biases can be left out of the counted set.
    assert len(snip.snip_scores(net, x, y, include_bias=False)) == 2


# --------------------------------------------------------------------------- SynFlow


def test_synflow_mask_does_not_depend_on_data():
    # Two unrelated datasets of 1x8x8 images (a small LeNet-300-100 keeps this fast).
    shape = (1, 8, 8)
    bundles = []
    for seed in (7, 8):
        g = torch.Generator().manual_seed(seed)
        x, y = torch.rand(300, *shape, generator=g) * seed, torch.randint(0, 10, (300,), generator=g)
        bundles.append(DataBundle(f"noise{seed}", 10, shape, x, y, x[:30], y[:30]))
    masks = {}
    for index, bundle in enumerate(bundles):
        for method in ("synflow", "snip"):
            cfg = cfg_for(method, compressions=(100.0,))
            model = build_model("lenet300", 10, shape)
            masks[index, method] = METHODS.get(method).prepare(cfg, model, torch.Generator().manual_seed(0), bundle).state["masks"]
    assert all(torch.equal(a, b) for a, b in zip(masks[0, "synflow"], masks[1, "synflow"]))
    # The comparison has teeth: SNIP, which sees the data, changes its mask.
    assert not all(torch.equal(a, b) for a, b in zip(masks[0, "snip"], masks[1, "snip"]))


@pytest.mark.parametrize("c", [4.0, 0.25])
def test_synflow_mask_invariant_to_layer_rescaling(c):
    # Bias-free ReLU MLP: scaling layer 1 by c and layer 2 by 1/c (c > 0) leaves
    # the function, and SynFlow's scores, unchanged. Powers of 2 keep it exact in floats.
    def mlp():
        return nn.Sequential(nn.Flatten(), nn.Linear(20, 30, bias=False), nn.ReLU(), nn.Linear(30, 25, bias=False),
                             nn.ReLU(), nn.Linear(25, 5, bias=False))

    net = mlp()
    kaiming_init(net, torch.Generator().manual_seed(1))
    scaled = copy.deepcopy(net)
    with torch.no_grad():
        scaled[1].weight.mul_(c)
        scaled[3].weight.div_(c)
    shape = (1, 4, 5)
    for compression in (3.0, 30.0):
        base = synflow.synflow_masks(net, compression, shape)
        moved = synflow.synflow_masks(scaled, compression, shape)
        assert all(torch.equal(a, b) for a, b in zip(base, moved))
        # Magnitude pruning is not invariant: the test can tell the difference.
        assert not all(torch.equal(a, b) for a, b in zip(magnitude_masks(net, compression), magnitude_masks(scaled, compression)))
    # Scoring works on a copy: the network's values and signs are untouched.
    fresh = mlp()
    kaiming_init(fresh, torch.Generator().manual_seed(1))
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), fresh.parameters()))


def _weight_counts(masks, model):
    return [int(m.sum()) for (name, _), m in zip(counted_parameters(model), masks) if name.endswith("weight")]


def _input_output_paths(masks) -> float:
    """Number of input->output paths through kept weights of LeNet-300-100."""
    w1, _, w2, _, w3, _ = (m.double() for m in masks)
    return float(torch.ones(1, w3.shape[0], dtype=torch.float64) @ w3 @ w2 @ w1 @ torch.ones(w1.shape[1], 1, dtype=torch.float64))


def test_layer_collapse_at_1000x_on_lenet300(data):
    """SynFlow keeps every layer alive at 1000x; SNIP and GMP (on the Kaiming
    weights at init) starve the 784x300 input layer.

    Observed (init seeds 0, 2, 4, 6 = trial seeds 0-3; 267 of 266,610 kept):
    SynFlow keeps [111-126, 48-69, 87-100] weights per layer and ~10^4
    input-output paths. SNIP keeps [1, 2, 0, 0] weights of the first layer
    (the whole layer pruned for two seeds) and GMP [2, 1, 1, 3]; in at least
    half of the seeds no input-output path survives (the network's output
    cannot depend on its input). Biases (zero at init) score 0 everywhere.
    """
    first_layer = {"synflow": [], "snip": [], "gmp": []}
    paths = {"synflow": [], "snip": [], "gmp": []}
    for seed in (0, 2, 4, 6):
        model = lenet300()
        generator = torch.Generator().manual_seed(seed)
        kaiming_init(model, generator)
        x, y = snip.snip_batch(data, 256, generator)
        all_masks = {
            "synflow": list(synflow_lenet300(seed, 1000.0)),
            "snip": snip.snip_masks(model, x, y, 1000),
            "gmp": magnitude_masks(model, 1000),
        }
        for name, masks in all_masks.items():
            assert sum(int(m.sum()) for m in masks) == 267
            counts = _weight_counts(masks, model)
            first_layer[name].append(counts[0])
            paths[name].append(_input_output_paths(masks))
            if name == "synflow":
                assert all(c > 0 for c in counts), counts
    assert min(first_layer["synflow"]) >= 50 and min(paths["synflow"]) > 1000
    # SNIP/GMP: at most 3 of 235,200 first-layer weights survive, ...
    assert max(first_layer["snip"]) <= 3 and max(first_layer["gmp"]) <= 3
    # ... SNIP prunes the whole first layer for some seeds, ...
    assert 0 in first_layer["snip"]
    # ... and for both, the input is disconnected from the output for some seeds.
    assert sum(p == 0 for p in paths["snip"]) >= 2 and sum(p == 0 for p in paths["gmp"]) >= 2


# --------------------------------------------------------------------------- L1


def test_l1_gradient_adds_lambda_sign_w(data):
    cfg = cfg_for("l1", lam=0.01, include_bias=True)  # biases in the counted set: penalized too
    model = lenet300()
    prepared = METHODS.get("l1").prepare(cfg, model, torch.Generator().manual_seed(0), data)
    with torch.no_grad():
        model[1].bias.copy_(torch.randn(300))  # nonzero biases are penalized too
        model[3].bias[:50] = 0.0
    x, y = data.train_x[:64], data.train_y[:64]
    params = counted(model)
    plain = torch.autograd.grad(F.cross_entropy(model(x), y), params)
    penalized = torch.autograd.grad(F.cross_entropy(model(x), y) + prepared.penalty(), params)
    for p, g0, g1 in zip(params, plain, penalized):
        torch.testing.assert_close(g1 - g0, 0.01 * torch.sign(p.detach()), rtol=0, atol=1e-6)
    assert prepared.reg_strength() == 0.01
    assert prepared.param_groups[0]["weight_decay"] == 0.0


# --------------------------------------------------------------------------- post-hoc ladder


@pytest.mark.parametrize("method", POSTHOC_LADDER)
def test_posthoc_ladder_prunes_at_every_target_above_the_inherent_sparsity(method, data):
    cfg = cfg_for(method, include_bias=True)
    model = lenet300()
    prepared = METHODS.get(method).prepare(cfg, model, torch.Generator().manual_seed(0), data)
    final = prepared.finalize() if prepared.finalize else prepared.model
    # Give the network an inherent sparsity of ~40x: all but 1/40 of the
    # counted entries below the counting threshold (not exactly zero).
    params = counted(final)
    with torch.no_grad():
        for p in params:
            p.add_(torch.sign(p) * 1e-3 + (p == 0) * 1e-3)  # every entry nonzero
        flat = torch.cat([p.flatten() for p in params])
        keep_masks = global_topk_mask([p.abs() for p in params], len(flat) // 40)
        for p, m in zip(params, keep_masks):
            p[~m] = 3e-8
    total = len(flat)
    points = METHODS.get(method).evaluate_points(cfg, final)
    assert points[0].point == "final" and points[0].target_compression is None
    assert all(p.abs().min() == 0 for p in counted(points[0].model))  # sub-threshold made exactly zero
    inherent = sparsity_stats(points[0].model).compression_ratio
    assert 39 < inherent < 41
    posthoc = points[1:]
    targets = [p.target_compression for p in posthoc]
    assert all(p.point == "posthoc" for p in posthoc)
    # Skips the targets at or below the inherent sparsity; keeps every other one, in order, also those
    # at chance (a seed's ladder that stopped there would drop out of the sparser targets' statistics).
    assert targets == [t for t in DEFAULT_LADDER if t > inherent] and targets[-1] == max(DEFAULT_LADDER)
    for point in posthoc:
        assert abs(sparsity_stats(point.model).nonzero - total / point.target_compression) <= 1
    # Given targets replace the default ladder.
    cfg2 = cfg_for(method, compressions=(20.0, 100.0, 50.0, 300.0))
    points2 = posthoc_ladder(cfg2, final)
    assert [p.target_compression for p in points2[1:]] == [50.0, 100.0, 300.0]


# --------------------------------------------------------------------------- PILoT


def test_pilot_init_identities(data):
    cfg = cfg_for("pilot", include_bias=True)
    reference = lenet300()
    kaiming_init(reference, torch.Generator().manual_seed(5))
    model = lenet300()
    prepared = METHODS.get("pilot").prepare(cfg, model, torch.Generator().manual_seed(5), data)
    pairs = pilot.pilot_factors(model)
    x0 = counted(reference)
    assert len(pairs) == len(x0) == 6
    for (m, w), x in zip(pairs, x0):
        m, w = m.detach().double(), w.detach().double()
        torch.testing.assert_close(m * m - w * w, torch.ones_like(m), rtol=0, atol=1e-6)
        assert torch.all(m > w.abs())
        torch.testing.assert_close((m * w).float(), x, rtol=1e-6, atol=1e-9)
    # The factorized network computes the Kaiming network's function.
    x = data.test_x[:32]
    torch.testing.assert_close(model(x), reference(x), rtol=1e-5, atol=1e-5)
    # Only m and w carry the decay 2 * alpha0.
    assert prepared.param_groups[0]["weight_decay"] == 2 * cfg.lam
    assert len(prepared.param_groups[0]["params"]) == 12
    assert prepared.state["budget"] == pytest.approx(0.1 * sum(float(p.detach().abs().sum()) for p in x0), rel=1e-5)


def test_pilot_budget_schedule_raises_above_and_decays_below(data):
    cfg = cfg_for("pilot", lam=1e-3, pilot_budget=0.5)
    model = lenet300()
    prepared = METHODS.get("pilot").prepare(cfg, model, torch.Generator().manual_seed(0), data)
    optimizer = torch.optim.SGD(prepared.param_groups, lr=0.1, momentum=0.9)  # as train() builds it
    assert pilot.product_l1(model) > prepared.state["budget"]  # at init: ||x0||_1 > 0.5 ||x0||_1
    prepared.on_epoch_end(1)
    assert prepared.state["alpha"] == pytest.approx(1e-3 * pilot.BUDGET_RAISE)
    assert prepared.reg_strength() == pytest.approx(1e-3)  # the alpha that acted in epoch 1
    prepared.on_epoch_end(2)
    assert prepared.state["alpha"] == pytest.approx(1e-3 * pilot.BUDGET_RAISE**2)
    assert optimizer.param_groups[0]["weight_decay"] == pytest.approx(2e-3 * pilot.BUDGET_RAISE**2)
    with torch.no_grad():
        for _, w in pilot.pilot_factors(model):
            w.mul_(0.1)  # ||m * w||_1 drops to 0.1 ||x0||_1 < budget
    prepared.on_epoch_end(3)
    assert prepared.state["alpha"] == pytest.approx(1e-3 * pilot.BUDGET_RAISE**2 * pilot.BUDGET_DECAY)
    assert optimizer.param_groups[0]["weight_decay"] == pytest.approx(2 * prepared.state["alpha"])
    assert optimizer.param_groups[1]["weight_decay"] == 0.0


@pytest.mark.parametrize("schedule,expected", [
    ("harmonic", [1, 1 / 2, 1 / 3]), ("quadratic", [1, 1 / 4, 1 / 9]),
    ("geometric", [1, 0.95, 0.95**2]), ("constant", [1, 1, 1]),
])
def test_pilot_open_loop_schedules(schedule, expected, data):
    cfg = cfg_for("pilot", lam=0.01, pilot_schedule=schedule)
    prepared = METHODS.get("pilot").prepare(cfg, lenet300(), torch.Generator().manual_seed(0), data)
    alphas = [prepared.state["alpha"]]
    for epoch in (1, 2):
        prepared.on_epoch_end(epoch)
        alphas.append(prepared.state["alpha"])
        assert prepared.param_groups[0]["weight_decay"] == pytest.approx(2 * alphas[-1])
    assert alphas == pytest.approx([0.01 * e for e in expected])


def test_pilot_schedule_is_validated():
    with pytest.raises(ConfigError, match="pilot_schedule"):
        validate_trial(cfg_for("pilot", pilot_schedule="cubic"))


# --------------------------------------------------------------------------- end to end


def _rows(cfg):
    return run_trial(cfg).rows


@pytest.mark.parametrize("method", PRUNE_AT_INIT)
def test_run_trial_prune_at_init(method):
    rows = _rows(cfg_for(method, compressions=(20.0,), seed=1))
    assert [(r["point"], r["target_compression"]) for r in rows] == [("final", 20.0)]
    row = rows[0]
    assert row["status"] == "ok" and row["method"] == method
    keep = keep_count(row["total_params"], 20.0)
    # Masks held through training (kept zero-init biases of random pruning may stay zero).
    assert row["nonzero_params"] <= keep and row["nonzero_params"] >= keep - 410
    if method != "random":
        assert row["nonzero_params"] == keep


def test_run_trial_gmp_oneshot_many_targets_and_gmp_retrained():
    rows = _rows(cfg_for("gmp_oneshot", compressions=(100.0, 10.0)))
    assert [(r["point"], r["target_compression"]) for r in rows] == [("posthoc", 10.0), ("posthoc", 100.0)]
    for row in rows:
        assert row["nonzero_params"] == keep_count(row["total_params"], row["target_compression"])
    tuned = _rows(cfg_for("gmp", compressions=(50.0,), finetune_epochs=1))
    assert [(r["point"], r["target_compression"]) for r in tuned] == [("final", 50.0)]
    assert tuned[0]["nonzero_params"] == keep_count(tuned[0]["total_params"], 50.0)  # mask held while retraining


@pytest.mark.parametrize("method", POSTHOC_LADDER)
def test_run_trial_inherent_plus_ladder(method):
    # Two epochs at lr 0.15: enough for the synthetic data to give a ladder of several points.
    rows = _rows(cfg_for(method, lam=1e-4, epochs=2, lr=0.15))
    assert rows[0]["point"] == "final" and rows[0]["target_compression"] is None
    targets = [r["target_compression"] for r in rows[1:]]
    assert rows[1:] and all(r["point"] == "posthoc" for r in rows[1:])
    assert targets == sorted(targets) and set(targets) <= set(DEFAULT_LADDER)
    assert all(t > rows[0]["compression_ratio"] for t in targets)
    assert targets == [t for t in DEFAULT_LADDER if t > rows[0]["compression_ratio"]]  # every rung, none skipped
    given = _rows(cfg_for(method, lam=1e-4, compressions=(30.0, 3.0)))
    given_targets = [r["target_compression"] for r in given[1:]]
    inherent = given[0]["compression_ratio"]
    assert given_targets and given_targets == [t for t in (3.0, 30.0) if t > inherent][: len(given_targets)]


@pytest.mark.parametrize("method", ["snip", "synflow", "random", "gmp"])
def test_the_masked_methods_train_with_the_configs_weight_decay(method, data):
    # The CIFAR and Tiny ImageNet specs give them 1e-4 (the cited configurations'); 0 must stay 0.
    for decay in (0.0, 1e-4):
        cfg = cfg_for(method, compressions=(10.0,), weight_decay=decay)
        prepared = METHODS.get(method).prepare(cfg, lenet300(), torch.Generator().manual_seed(0), data)
        assert [g["weight_decay"] for g in prepared.param_groups] == [decay]
