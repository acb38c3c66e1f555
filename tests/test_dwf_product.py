"""The fused DWF products against the plain chain of products: values and gradients."""

import pytest
import torch
from torch import nn

from suite.core.dwf.factorization import factorize
from suite.core.dwf.product import FactorProducts, factor_product, factor_products


def _plain(factors):
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


def _factors(depth, shape=(4, 5), dtype=torch.float64, zeros=False, seed=0):
    gen = torch.Generator().manual_seed(seed)
    factors = [torch.randn(shape, generator=gen, dtype=dtype) for _ in range(depth)]
    if zeros:
        # Exact zeros: one factor zero alone, two factors zero at the same
        # entry, and a zero in the first and in the last factor.
        factors[0][0, 0] = 0.0
        factors[-1][0, 1] = 0.0
        factors[0][1, 2] = 0.0
        factors[-1][1, 2] = 0.0
        factors[depth // 2][2, :] = 0.0
    return [f.requires_grad_() for f in factors]


@pytest.mark.parametrize("zeros", [False, True])
@pytest.mark.parametrize("depth", [2, 3, 4, 5])
def test_fused_product_passes_float64_gradcheck(depth, zeros):
    factors = _factors(depth, zeros=zeros)
    assert torch.autograd.gradcheck(lambda *f: FactorProducts.apply(depth, *f), factors)
    assert torch.autograd.gradgradcheck(lambda *f: _plain(f), factors)  # the reference itself is sound


@pytest.mark.parametrize("zeros", [False, True])
@pytest.mark.parametrize("depth", [2, 3, 4, 5])
def test_fused_product_matches_plain_values_and_gradients(depth, zeros):
    fused = _factors(depth, dtype=torch.float32, zeros=zeros, seed=depth)
    plain = [f.detach().clone().requires_grad_() for f in fused]
    out_fused, out_plain = factor_product(fused), _plain(plain)
    # Same multiplications in the same order: bit-identical forward.
    assert torch.equal(out_fused, out_plain)
    upstream = torch.randn(out_plain.shape, generator=torch.Generator().manual_seed(7))
    grads_fused = torch.autograd.grad(out_fused, fused, upstream)
    grads_plain = torch.autograd.grad(out_plain, plain, upstream)
    for d, (a, b) in enumerate(zip(grads_fused, grads_plain)):
        # Prefix/suffix form the same products as autograd's chain, in the
        # same order (x*y == y*x in IEEE), so even the gradients are bit-identical.
        assert torch.equal(a, b), f"factor {d} of D={depth}"
        assert torch.isfinite(a).all()
    if zeros:
        # Where two factors are zero, every factor's gradient is exactly zero;
        # a division-based gradient (w / omega_d) would give NaN here.
        assert all(g[1, 2] == 0 for g in grads_fused)


@pytest.mark.parametrize("zeros", [False, True])
def test_products_of_many_tensors_in_one_node_pass_gradcheck(zeros):
    """A network's tensors (different shapes) in one node: tensor i's factor d at i * depth + d."""
    groups = [_factors(3, shape, zeros=zeros and shape == (4, 5), seed=i)
              for i, shape in enumerate([(4, 5), (3,), (2, 1, 3)])]
    flat = [f for factors in groups for f in factors]
    assert torch.autograd.gradcheck(lambda *f: FactorProducts.apply(3, *f), flat)


def test_products_of_many_tensors_match_plain_values_and_gradients_bit_for_bit():
    # Mixed depths and shapes: one node per depth, results in the order given.
    groups = [_factors(depth, shape, dtype=torch.float32, zeros=shape == (4, 5), seed=i)
              for i, (depth, shape) in enumerate([(4, (4, 5)), (2, (7,)), (4, (3,)), (2, (4, 5))])]
    plain_groups = [[f.detach().clone().requires_grad_() for f in factors] for factors in groups]
    fused = factor_products(groups)
    plain = [_plain(factors) for factors in plain_groups]
    for a, b in zip(fused, plain):
        assert torch.equal(a, b)
    upstream = [torch.randn(p.shape, generator=torch.Generator().manual_seed(i)) for i, p in enumerate(plain)]
    flat, flat_plain = [f for g in groups for f in g], [f for g in plain_groups for f in g]
    for a, b in zip(torch.autograd.grad(fused, flat, upstream), torch.autograd.grad(plain, flat_plain, upstream)):
        assert torch.equal(a, b)


def test_only_the_factors_that_need_a_gradient_get_one():
    factors = _factors(3)
    factors[1].requires_grad_(False)
    grads = torch.autograd.grad(factor_product(factors).sum(), [factors[0], factors[2]])
    torch.testing.assert_close(grads[0], (factors[1] * factors[2]).detach())
    torch.testing.assert_close(grads[1], (factors[0] * factors[1]).detach())


def test_product_without_autograd_matches_and_records_no_graph():
    factors = _factors(4)
    with torch.no_grad():
        out = factor_product(factors)
    assert out.grad_fn is None
    torch.testing.assert_close(out, _plain([f.detach() for f in factors]), rtol=0, atol=0)
    assert all(f.abs().sum() > 0 for f in factors)  # inputs untouched by the in-place product


def test_a_network_forward_records_one_product_node_for_all_its_tensors():
    net = factorize(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), 4,
                    generator=torch.Generator().manual_seed(0))
    net(torch.randn(5, 3)).sum().backward()
    nodes = {id(layer.__dict__[name].grad_fn) for layer in (net[0], net[2]) for name in ("weight", "bias")}
    assert len(nodes) == 1
    assert type(net[0].weight.grad_fn).__name__ == "FactorProductsBackward"
    for factors in list(net[0]._dwf_factors.values()) + list(net[2]._dwf_factors.values()):
        assert all(f.grad is not None and torch.isfinite(f.grad).all() for f in factors)


def test_a_layer_called_alone_after_an_update_uses_its_current_factors():
    """The network's products serve its own forward only; a layer called by
    itself later (after an optimizer step) forms fresh ones."""
    net = factorize(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), 2,
                    generator=torch.Generator().manual_seed(0))
    x = torch.randn(5, 4)
    net(torch.randn(5, 3)).sum().backward()
    with torch.no_grad():
        for p in net.parameters():
            p -= 0.5 * p.grad
    factors = net[2]._dwf_factors
    expected = x @ (factors["weight"][0] * factors["weight"][1]).T + factors["bias"][0] * factors["bias"][1]
    torch.testing.assert_close(net[2](x), expected, rtol=0, atol=1e-6)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least 2 factors"):
        factor_product([torch.ones(3)])
    with pytest.raises(ValueError, match=r"factor 1 has shape \(2,\)"):
        factor_product([torch.ones(3), torch.ones(2)])
