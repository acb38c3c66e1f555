"""The pruning methods' masks: exact top-k, sparsity achieved, masks held in training, determinism, weight decay."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from comparison_methods import PRUNING, cfg_for, counted, lenet300, synflow_lenet300
from suite.builtins import METHODS
from suite.methods.base import kaiming_init
from suite.methods.masks import global_topk_mask, keep_count, magnitude_pruned, masked_prepared
from suite.core.metrics import sparsity_stats


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


# --------------------------------------------------------------------------- weight decay


@pytest.mark.parametrize("method", ["snip", "synflow", "random", "gmp"])
def test_the_masked_methods_train_with_the_configs_weight_decay(method, data):
    # The CIFAR and Tiny ImageNet specs give them 1e-4 (the cited configurations'); 0 must stay 0.
    for decay in (0.0, 1e-4):
        cfg = cfg_for(method, compressions=(10.0,), weight_decay=decay)
        prepared = METHODS.get(method).prepare(cfg, lenet300(), torch.Generator().manual_seed(0), data)
        assert [g["weight_decay"] for g in prepared.param_groups] == [decay]
