"""L1 and PILoT: L1's penalty, the post-hoc pruning ladder after both, PILoT's factors and alpha schedules."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from comparison_methods import POSTHOC_LADDER, cfg_for, counted, lenet300
from suite.config import ConfigError
from baselines import pilot
from suite.builtins import METHODS
from suite.methods.base import kaiming_init
from suite.methods.masks import DEFAULT_LADDER, global_topk_mask, posthoc_ladder
from suite.methods.validation import validate_trial
from suite.core.metrics import sparsity_stats


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
