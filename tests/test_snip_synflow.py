"""SNIP's and SynFlow's scores: SNIP by hand, SynFlow blind to data and layer rescaling, layer collapse at 1000x."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from comparison_methods import cfg_for, lenet300, synflow_lenet300
from suite.core.data.bundle import DataBundle
from suite.core.models.registry import build_model
from baselines import snip, synflow
from suite.builtins import METHODS
from suite.methods.base import kaiming_init
from suite.methods.masks import counted_parameters, magnitude_masks


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



@pytest.mark.parametrize("examples, drawn", [(0, 256), (100, 100)])
def test_snip_scores_on_snip_examples_or_else_one_training_batch(data, monkeypatch, examples, drawn):
    """The scoring batch is `snip_examples` training examples (Synaptic-Flow's reference: 10 per class),
    by default one batch of the training batch size; the mask is the one those examples give."""
    seen = []
    scores = snip.snip_scores
    monkeypatch.setattr(snip, "snip_scores", lambda model, x, y, include_bias=True: seen.append(x) or scores(
        model, x, y, include_bias))
    cfg = cfg_for("snip", compressions=[10.0], snip_examples=examples)
    generator = torch.Generator().manual_seed(0)
    prepared = snip.prepare(cfg, lenet300(), generator, data)
    (x,) = seen
    assert x.shape[0] == drawn
    again = lenet300()
    replay = torch.Generator().manual_seed(0)
    kaiming_init(again, replay)
    bx, by = snip.snip_batch(data, drawn, replay)
    torch.testing.assert_close(bx, x)
    expected = snip.snip_masks(again, bx, by, 10.0, include_bias=False)
    kept = [p for _, p in counted_parameters(prepared.model, include_bias=False)]
    assert all(torch.equal(m.bool(), k != 0) for m, k in zip(expected, kept))


def test_only_snip_takes_snip_examples():
    from suite.config import ConfigError
    from suite.methods.validation import validate_trial

    validate_trial(cfg_for("snip", compressions=[10.0], snip_examples=100))
    with pytest.raises(ConfigError, match=r"'snip_examples' = 100 is not allowed; allowed: 0, its default: method "
                                          r"'synflow' does not read it"):
        validate_trial(cfg_for("synflow", compressions=[10.0], snip_examples=100))


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
            prepared = METHODS.get(method).prepare(cfg, model, torch.Generator().manual_seed(0), bundle)
            masks[index, method] = prepared.state["masks"]
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
        assert not all(torch.equal(a, b)
                       for a, b in zip(magnitude_masks(net, compression), magnitude_masks(scaled, compression)))
    # Scoring works on a copy: the network's values and signs are untouched.
    fresh = mlp()
    kaiming_init(fresh, torch.Generator().manual_seed(1))
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), fresh.parameters()))


def _weight_counts(masks, model):
    return [int(m.sum()) for (name, _), m in zip(counted_parameters(model), masks) if name.endswith("weight")]


def _input_output_paths(masks) -> float:
    """Number of input->output paths through kept weights of LeNet-300-100."""
    w1, _, w2, _, w3, _ = (m.double() for m in masks)
    return float(torch.ones(1, w3.shape[0], dtype=torch.float64) @ w3 @ w2 @ w1
                 @ torch.ones(w1.shape[1], 1, dtype=torch.float64))


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
