"""DWF products w = omega_1 * ... * omega_D, many tensors in one autograd node.

Autograd's chain of D-1 binary products records D-1 nodes per tensor and, in
the backward, walks them one by one. `FactorProducts` is one node for any
number of factorized tensors of one depth (a whole network's): the forward
keeps the prefix products it computes anyway, and the backward forms every
factor gradient

    d w / d omega_d * g = (omega_1 ... omega_{d-1}) * g * (omega_{d+1} ... omega_D)

from those prefixes and a running suffix, without division, so a factor or a
product that is exactly zero (collapsed, pruned) gets the same gradient as
from the plain product. It does the same 2(D-1) elementwise products per
tensor as the chain, in the same order (so the results are bit-identical),
but each step covers every tensor in one `torch._foreach_*` call: on
LeNet-300-100 most tensors are small (biases, the last layer) and a Python
node and a dispatch per tensor cost more than their arithmetic. Fewer memory
passes need a compiler: `suite/core/dwf/step.py` fuses the factors' gradients
with their SGD step, compiled, where one is found. This eager node needs none
and is the fallback.
"""

from __future__ import annotations

from typing import Sequence

import torch


class FactorProducts(torch.autograd.Function):
    """Products of `count` tensors of `depth` factors each, gradients by prefix/suffix products.

    The factors come flat, tensor by tensor: tensor i's factor d is
    factors[i * depth + d]."""

    @staticmethod
    def forward(ctx, depth: int, *factors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # columns[d]: factor d of every tensor.
        columns = [list(factors[d::depth]) for d in range(depth)]
        # prefixes[k][i] = omega_1 ... omega_{k+1} of tensor i; the last is w.
        prefixes = [columns[0]]
        for column in columns[1:]:
            prefixes.append(torch._foreach_mul(prefixes[-1], column))
        # The backward needs every factor but the first and every prefix but w.
        ctx.depth, ctx.count = depth, len(columns[0])
        ctx.save_for_backward(*(t for column in columns[1:] for t in column),
                              *(t for prefix in prefixes[:-1] for t in prefix))
        return tuple(prefixes[-1])

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        depth, count = ctx.depth, ctx.count
        saved = ctx.saved_tensors
        rows = [list(saved[k * count:(k + 1) * count]) for k in range(2 * (depth - 1))]
        tail, prefixes = rows[:depth - 1], rows[depth - 1:]  # tail[k] = columns[k + 1]
        columns: list[list[torch.Tensor] | None] = [None] * depth
        # suffix = g * omega_{d+1} ... omega_D, grown from the right. The first
        # step is out of place (`grads` may be shared with other consumers of
        # w), the rest in place: one buffer per tensor instead of D-1.
        suffix = list(grads)
        for d in range(depth - 1, 0, -1):
            if any(ctx.needs_input_grad[1 + i * depth + d] for i in range(count)):
                columns[d] = torch._foreach_mul(prefixes[d - 1], suffix)
            if d == depth - 1:
                suffix = torch._foreach_mul(suffix, tail[d - 1])
            else:
                torch._foreach_mul_(suffix, tail[d - 1])
        columns[0] = suffix
        flat = [None if columns[d] is None or not ctx.needs_input_grad[1 + i * depth + d] else columns[d][i]
                for i in range(count) for d in range(depth)]
        return (None, *flat)


def _check_groups(groups: Sequence[Sequence[torch.Tensor]]) -> None:
    for g, factors in enumerate(groups):
        if len(factors) < 2:
            raise ValueError(f"a DWF product needs at least 2 factors, got {len(factors)} (tensor {g})")
        shape = factors[0].shape
        for i, factor in enumerate(factors):
            if factor.shape != shape:
                raise ValueError(f"factor {i} has shape {tuple(factor.shape)}; all factors must have shape "
                                 f"{tuple(shape)} (tensor {g})")


def _products_of_one_depth(groups: list[tuple[torch.Tensor, ...]]) -> list[torch.Tensor]:
    depth = len(groups[0])
    if not torch.is_grad_enabled() or not any(f.requires_grad for factors in groups for f in factors):
        # No graph to record: the plain in-place products, one buffer per tensor.
        out = torch._foreach_mul([f[0] for f in groups], [f[1] for f in groups])
        for d in range(2, depth):
            torch._foreach_mul_(out, [f[d] for f in groups])
        return out
    return list(FactorProducts.apply(depth, *(f for factors in groups for f in factors)))


def factor_products(groups: Sequence[Sequence[torch.Tensor]]) -> list[torch.Tensor]:
    """omega_1 * ... * omega_D of every factorized tensor in `groups` (one list
    of same-shaped factors per tensor), in order; one autograd node per depth."""
    groups = [tuple(factors) for factors in groups]
    _check_groups(groups)
    products: list[torch.Tensor | None] = [None] * len(groups)
    for depth in sorted({len(factors) for factors in groups}):
        chosen = [i for i, factors in enumerate(groups) if len(factors) == depth]
        for i, product in zip(chosen, _products_of_one_depth([groups[i] for i in chosen])):
            products[i] = product
    return products


def factor_product(factors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The collapsed tensor omega_1 * ... * omega_D of one factorized tensor."""
    return factor_products([factors])[0]
