"""The DWF product w = omega_1 * ... * omega_D as one autograd node per tensor.

Autograd's chain of D-1 binary products records D-1 nodes per tensor and, in
the backward, walks them one by one. `FactorProduct` is one node: the forward
keeps the prefix products it computes anyway, and the backward forms every
factor gradient

    d w / d omega_d * g = (omega_1 ... omega_{d-1}) * g * (omega_{d+1} ... omega_D)

from those prefixes and a running suffix, without division, so a factor or a
product that is exactly zero (collapsed, pruned) gets the same gradient as
from the plain product. It does the same 2(D-1) elementwise products as the
chain, in the same order (so the results are bit-identical), with fewer graph
nodes and allocations; fewer memory passes need a compiler, see
`suite/core/dwf_compile.py` (optional, off by default; benchmarks/speed.py measures
it). This eager node needs none.
"""

from __future__ import annotations

import torch


class FactorProduct(torch.autograd.Function):
    """w = factors[0] * ... * factors[-1] (same shapes), gradients by prefix/suffix products."""

    @staticmethod
    def forward(ctx, *factors: torch.Tensor) -> torch.Tensor:
        # prefixes[k] = omega_1 ... omega_{k+1}; the last one is w itself.
        prefixes = [factors[0]]
        for factor in factors[1:]:
            prefixes.append(prefixes[-1] * factor)
        # The backward needs every factor but the first and every prefix but w.
        ctx.save_for_backward(*factors[1:], *prefixes[:-1])
        return prefixes[-1]

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        saved = ctx.saved_tensors
        depth = len(saved) // 2 + 1
        tail, prefixes = saved[: depth - 1], saved[depth - 1:]
        grads: list[torch.Tensor | None] = [None] * depth
        # suffix = g * omega_{d+1} ... omega_D, grown from the right. The first
        # step is out of place (`grad` may be shared with other consumers of
        # w), the rest in place: one buffer instead of D-1 allocations.
        suffix = grad
        for d in range(depth - 1, 0, -1):
            if ctx.needs_input_grad[d]:
                grads[d] = prefixes[d - 1] * suffix
            suffix = suffix * tail[d - 1] if suffix is grad else suffix.mul_(tail[d - 1])
        if ctx.needs_input_grad[0]:
            grads[0] = suffix
        return tuple(grads)


def factor_product(factors) -> torch.Tensor:
    """The collapsed tensor omega_1 * ... * omega_D of one factorized tensor."""
    factors = tuple(factors)
    if len(factors) < 2:
        raise ValueError(f"a DWF product needs at least 2 factors, got {len(factors)}")
    shape = factors[0].shape
    for i, factor in enumerate(factors):
        if factor.shape != shape:
            raise ValueError(f"factor {i} has shape {tuple(factor.shape)}; all factors must have shape {tuple(shape)}")
    if not torch.is_grad_enabled() or not any(f.requires_grad for f in factors):
        # No graph to record: the plain in-place product, one buffer.
        out = factors[0] * factors[1]
        for factor in factors[2:]:
            out.mul_(factor)
        return out
    return FactorProduct.apply(*factors)
