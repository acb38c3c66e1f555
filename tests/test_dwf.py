"""DWF against its mathematics: collapse, initialization, penalty, counting."""

import math

import pytest
import torch
from torch import nn

from suite.config import FLOAT32_EPS
from suite.core.dwf.factorization import (
    collapse, dwf_init_factors, factor_parameters, factor_weight_decay, factorize, layer_factors, misalignment,
    prunable_layers, truncation_bounds,
)
from suite.core.metrics import sparsity_stats
from suite.core.models.registry import build_model


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _normal_pdf(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def truncated_second_moment(std: float, lo: float, hi: float) -> float:
    """E[x^2] of N(0, std^2) conditioned on lo < |x| < hi (closed form)."""
    a, b = lo / std, hi / std
    mass = _normal_cdf(b) - _normal_cdf(a)
    return std**2 * (1 + (a * _normal_pdf(a) - b * _normal_pdf(b)) / mass)


@pytest.mark.parametrize("model_name,shape", [("lenet300", (1, 28, 28)), ("lenet5", (1, 28, 28))])
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_collapsed_network_computes_what_its_factors_compute(model_name, shape, depth):
    torch.manual_seed(0)
    model = factorize(build_model(model_name, 10, shape), depth, generator=torch.Generator().manual_seed(1))
    model.eval()
    x = torch.rand(16, *shape)
    plain = collapse(model, threshold=0.0)  # before thresholding: exactly the same function
    assert not any("_dwf" in name for name, _ in plain.named_parameters())
    torch.testing.assert_close(plain(x), model(x), rtol=1e-5, atol=1e-6)


def test_collapse_thresholds_at_float32_eps_and_counts_exactly():
    layer = nn.Linear(3, 2)
    model = nn.Sequential(layer)
    factorize(model, 2, generator=torch.Generator().manual_seed(0))
    w1, w2 = layer_factors(layer)["weight"]
    b1, b2 = layer_factors(layer)["bias"]
    with torch.no_grad():
        w1.copy_(torch.tensor([[1.0, 1e-4, 2.0], [1e-3, 0.5, 3e-4]]))
        w2.copy_(torch.tensor([[1.0, 1e-4, 1.0], [2e-4, 1.0, 4e-4]]))  # products: 1, 1e-8, 2, 2e-7, 0.5, 1.2e-7
        b1.copy_(torch.tensor([1e-4, 1.0]))
        b2.copy_(torch.tensor([1e-4, -1.0]))  # products: 1e-8, -1
    plain = collapse(model)
    expected = torch.tensor([[1.0, 0.0, 2.0], [2e-7, 0.5, 1.2e-7]])
    torch.testing.assert_close(plain[0].weight.data, expected)
    assert plain[0].bias.data.tolist() == [0.0, -1.0]
    stats = sparsity_stats(plain)
    assert (stats.total, stats.nonzero) == (8, 6)
    assert stats.compression_ratio == pytest.approx(8 / 6)
    assert stats.sparsity == pytest.approx(2 / 8)
    assert sparsity_stats(plain, include_bias=False).total == 6
    # 1.2e-7 >= 1.19e-7 stays; the threshold is strict "<" as in Alg. 2.
    assert FLOAT32_EPS == 1.19e-7


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_dwf_init_respects_bounds_and_matches_truncated_moments(depth):
    fan_in = 784
    sigma_w = math.sqrt(1 / fan_in)
    shape = (600, fan_in)  # ~470k draws per factor
    factors = dwf_init_factors(shape, sigma_w, depth, 3e-3, torch.Generator().manual_seed(0))
    lo, hi = truncation_bounds(sigma_w, depth, 3e-3)
    assert hi == pytest.approx(min(1.0, (2 * sigma_w) ** (1 / depth)))
    for f in factors:
        assert f.abs().min() > lo and f.abs().max() < hi
        assert f.shape == shape
    product = torch.stack(factors).prod(0).double()
    assert product.abs().max() < 2 * sigma_w  # |product| < omega_max^D <= 2 sigma_w
    assert abs(product.mean()) < 0.05 * sigma_w
    # The factors are independent, so Var(product) = prod_d E[omega_d^2].
    expected = truncated_second_moment(sigma_w ** (1 / depth), lo, hi) ** depth
    assert product.var().item() == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_the_factor_reading_of_the_upper_bound_keeps_most_of_the_matched_variance(depth):
    """omega_max="factor": |factor| < 2 sigma_w^(1/D), two factor standard deviations, where Algorithm 1
    as written ("product") cuts at (2 sigma_w)^(1/D), 1.2-1.4 of them. Kaiming sigma_w, 784 inputs."""
    fan_in, gen = 784, torch.Generator().manual_seed(0)
    sigma_w = math.sqrt(2 / fan_in)
    lo, hi = truncation_bounds(sigma_w, depth, None, "factor")
    assert hi == pytest.approx(min(1.0, 2 * sigma_w ** (1 / depth)))
    assert hi > truncation_bounds(sigma_w, depth, None)[1]
    factors = dwf_init_factors((600, fan_in), sigma_w, depth, None, gen, "factor")
    assert all(f.abs().min() > lo and f.abs().max() < hi for f in factors)
    product = torch.stack(factors).prod(0).double()
    expected = truncated_second_moment(sigma_w ** (1 / depth), lo, hi) ** depth
    assert product.var().item() == pytest.approx(expected, rel=0.03)
    # At least ~the matched sigma_w^2 (0.93 / 1.37 / 2.29 of it for D = 2 / 3 / 4: the lower cut pushes mass
    # outward), where the written bound keeps 0.42 / 0.29 / 0.23 of it.
    assert 0.9 * sigma_w**2 < expected < 2.5 * sigma_w**2
    product_reading = truncation_bounds(sigma_w, depth, None)
    assert truncated_second_moment(sigma_w ** (1 / depth), *product_reading) ** depth < 0.45 * sigma_w**2
    with pytest.raises(ValueError, match="allowed"):
        truncation_bounds(sigma_w, depth, None, "both")


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_variance_matching_without_truncation_gives_lecun_variance(depth):
    """VarMatch (Sec. 4.1): factors N(0, sigma_w^(2/D)) multiply to variance sigma_w^2 = 1/fan_in.
    Truncation (Alg. 1) then shrinks it by prod_d E[omega_d^2]/sigma^2, tested above."""
    fan_in = 784
    sigma = (1 / fan_in) ** (1 / (2 * depth))
    gen = torch.Generator().manual_seed(0)
    product = torch.stack([torch.randn(2_000_000, generator=gen, dtype=torch.float64) * sigma
                           for _ in range(depth)]).prod(0)
    # Heavy tails (kurtosis 3^D) make the sample variance noisy; 2M draws keep it within a few %.
    assert product.var().item() == pytest.approx(1 / fan_in, rel=0.05 if depth < 4 else 0.08)


def test_bias_factors_are_never_all_zero():
    model = factorize(build_model("lenet300", 10, (1, 28, 28)), 3)
    for _, module in prunable_layers(model):
        for factor in layer_factors(module)["bias"]:
            assert factor.abs().min() > 0


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_factor_penalty_gradient_equals_weight_decay_mapping(depth):
    lam = 3e-3
    model = factorize(nn.Sequential(nn.Linear(5, 4)), depth, generator=torch.Generator().manual_seed(0))
    factors = factor_parameters(model)
    penalty = lam / depth * sum(f.pow(2).sum() for f in factors)
    grads = torch.autograd.grad(penalty, factors)
    wd = factor_weight_decay(lam, depth)
    for f, g in zip(factors, grads):
        torch.testing.assert_close(g, wd * f.detach())
    # One SGD step with weight decay wd == one step on the explicit penalty.
    explicit = [f.detach().clone().requires_grad_() for f in factors]
    torch.optim.SGD(explicit, lr=0.1).zero_grad()
    (lam / depth * sum(f.pow(2).sum() for f in explicit)).backward()
    with torch.no_grad():
        stepped_explicit = [f - 0.1 * f.grad for f in explicit]
    decayed = [f.detach().clone().requires_grad_() for f in factors]
    opt = torch.optim.SGD(decayed, lr=0.1, weight_decay=wd)
    for f in decayed:
        f.grad = torch.zeros_like(f)
    opt.step()
    for a, b in zip(stepped_explicit, decayed):
        torch.testing.assert_close(a, b.detach())


def test_misalignment_is_zero_iff_balanced():
    depth = 3
    model = factorize(nn.Sequential(nn.Linear(6, 5)), depth, generator=torch.Generator().manual_seed(0))
    assert misalignment(model) > 0
    layer = model[0]
    with torch.no_grad():
        for name, factors in layer_factors(layer).items():
            w = torch.stack(list(factors)).prod(0)
            root = w.abs().pow(1 / depth)
            factors[0].copy_(torch.sign(w) * root)
            for f in factors[1:]:
                f.copy_(root)
    assert abs(misalignment(model)) < 1e-6


def test_factorize_rejects_depth_one():
    with pytest.raises(ValueError, match="depth"):
        factorize(nn.Sequential(nn.Linear(2, 2)), 1)


@pytest.mark.parametrize("base_init,gain", [("kaiming", 2.0), ("lecun", 1.0)])
def test_factorize_uses_the_base_variance_of_its_layer(base_init, gain):
    """factorize() on a real layer: bounds and product variance follow sigma_w^2 = gain / fan_in."""
    depth, layer = 3, nn.Linear(784, 600)
    factorize(nn.Sequential(layer), depth, base_init=base_init, generator=torch.Generator().manual_seed(0))
    sigma_w = math.sqrt(gain / 784)
    lo, hi = truncation_bounds(sigma_w, depth, None)  # the default: 3e-3 on the product
    factors = list(layer_factors(layer)["weight"])
    assert all(f.abs().min() > lo and f.abs().max() < hi for f in factors)
    product = torch.stack(factors).prod(0).double()
    expected = truncated_second_moment(sigma_w ** (1 / depth), lo, hi) ** depth
    assert product.var().item() == pytest.approx(expected, rel=0.03)
