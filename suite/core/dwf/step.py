"""The DWF training step with the factors' update fused into one pass per tensor.

The eager step (`suite/core/dwf/product.py` plus torch's fused SGD) makes
about ten elementwise passes over each factorized tensor per step at D = 4:
D - 1 products forward, 2(D - 1) for the factor gradients backward, then the
optimizer reading D parameters, D gradients and D momentum buffers. On a CPU
those passes, not the matrix products, are DWF's overhead over dense.

Here the network's forward reads a plain leaf tensor per factorized tensor
holding w = omega_1 * ... * omega_D, so autograd stops at w and its gradient
g is all the backward computes. `FactorizedSGD.step` then runs
`factor_sgd` compiled: per tensor one loop that reads g, the D factors and
their D momentum buffers and writes the new factors, buffers and w. The
arithmetic is torch.optim.SGD's (coupled weight decay, momentum, no
dampening, no Nesterov) on the factor gradients

    dL/d omega_d = g * omega_1 ... omega_{d-1} * omega_{d+1} ... omega_D,

formed from prefix and suffix products without division, as FactorProducts
does; tests/test_dwf_step.py checks it against that path step by step. The
momentum buffers live in the optimizer's state under torch's own key, so a
state_dict reads the same.

Without a compiler the same function runs eagerly and is slower than the
eager path (nothing is fused), so `suite.core.dwf.compile.fused_step_wanted`
decides; the eager path stays the fallback.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

Tensors = Sequence[torch.Tensor]


def factor_sgd(products: Tensors, grads: Tensors, factors: Sequence[Tensors], buffers: Sequence[Tensors],
               lr: torch.Tensor, weight_decay: torch.Tensor, momentum: torch.Tensor) -> None:
    """In place, per factorized tensor i: one SGD-with-momentum step of its factors from the
    gradient grads[i] of their product, then products[i] = the new product."""
    for product, grad, omegas, bufs in zip(products, grads, factors, buffers):
        depth = len(omegas)
        prefixes = [omegas[0]]  # prefixes[d] = omega_1 ... omega_{d+1}
        for d in range(1, depth - 1):
            prefixes.append(prefixes[-1] * omegas[d])
        suffix, new = grad, [None] * depth
        for d in range(depth - 1, -1, -1):
            factor_grad = suffix if d == 0 else prefixes[d - 1] * suffix
            if d > 0:
                suffix = suffix * omegas[d]
            buf = bufs[d] * momentum + (factor_grad + weight_decay * omegas[d])
            bufs[d].copy_(buf)
            new[d] = omegas[d] - lr * buf
        value = new[0]
        for d in range(depth):
            omegas[d].copy_(new[d])
            if d > 0:
                value = value * new[d]
        product.copy_(value)


class FactorizedSGD(torch.optim.SGD):
    """torch.optim.SGD whose `factorized` param groups (DWF factors) take the fused step.

    `leaves` is the network's `NetworkComposer` in leaf mode: it hands each
    factorized tensor's product to the forward as a leaf, whose .grad the step
    consumes. Every other group (BatchNorm, plain layers) is torch's SGD."""

    def __init__(self, param_groups, composer, update: Callable[..., None], **kwargs):
        super().__init__(param_groups, **kwargs)
        for group in self.param_groups:
            if group.get("factorized"):
                unsupported = {k: group[k] for k in ("nesterov", "dampening", "maximize") if group.get(k)}
                if unsupported:
                    raise ValueError(f"the fused DWF step does SGD with momentum and coupled weight decay only; "
                                     f"{unsupported} not allowed in a factorized group; allowed: nesterov=False, "
                                     f"dampening=0, maximize=False (or $BENCH_COMPILE=0 for torch's SGD)")
        # In leaf mode no factor gets a gradient of its own: each must be in a factorized group, and a
        # tensor's factors in the same one, or it would never be updated.
        group_of = {id(p): i for i, g in enumerate(self.param_groups) if g.get("factorized") for p in g["params"]}
        for layer, name, fs in composer.entries:
            if len({group_of.get(id(f)) for f in fs}) != 1 or group_of.get(id(fs[0])) is None:
                raise ValueError(f"the factors of {type(layer).__name__}.{name} must all be in one param group "
                                 f"marked factorized; allowed: every factor of the network in such a group")
        self.composer, self.update = composer, update
        self._plan_key, self._plan = None, None
        composer.use_leaves()

    def zero_grad(self, set_to_none: bool = True) -> None:
        super().zero_grad(set_to_none)
        self.composer.clear_leaf_grads()

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if any(g["params"] for g in self.param_groups if not g.get("factorized")):
            loss = super().step(closure)  # BatchNorm and the like (torch's step skips the grad-less factors)
        elif closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group.get("factorized"):
                self._factor_step(group)
        return loss

    def _factor_step(self, group: dict) -> None:
        if any(p.grad is not None for p in group["params"]):
            # Only the products' gradients reach this step; one on a factor itself
            # (a penalty on the factors, a layer called alone) would be lost.
            raise RuntimeError("a DWF factor has a gradient of its own, which the fused step does not use; "
                               "allowed: losses through the network's forward only, or $BENCH_COMPILE=0")
        # What the call needs is fixed until the composer rebuilds its leaves: built once.
        key = (id(group), self.composer.generation)
        if self._plan_key != key:
            mine = {id(p) for p in group["params"]}
            chosen = [(leaf, factors) for leaf, factors in self.composer.leaf_entries()
                      if all(id(f) in mine for f in factors)]
            device = chosen[0][0].device if chosen else torch.device("cpu")
            self._plan = ([leaf for leaf, _ in chosen], [[f.detach() for f in factors] for _, factors in chosen],
                          [[self._buffer(f) for f in factors] for _, factors in chosen],
                          # Tensor inputs, refilled each step: a new lr does not recompile.
                          [torch.zeros((), device=device) for _ in range(3)])
            self._plan_key = key
        leaves, factors, buffers, scalars = self._plan
        reached = [i for i, leaf in enumerate(leaves) if leaf.grad is not None]
        if not reached:
            return  # no backward since the last step
        if len(reached) < len(leaves):  # as torch's SGD: a tensor the loss did not reach is not updated
            leaves, factors, buffers = ([xs[i] for i in reached] for xs in (leaves, factors, buffers))
        for scalar, value in zip(scalars, (group["lr"], group["weight_decay"], group["momentum"])):
            scalar.fill_(float(value))
        self.update([leaf.detach() for leaf in leaves], [leaf.grad for leaf in leaves], factors, buffers, *scalars)
        self.composer.mark_fresh()

    def _buffer(self, factor: torch.Tensor) -> torch.Tensor:
        state = self.state[factor]
        if state.get("momentum_buffer") is None:
            # torch's first step sets buf = d_p; momentum * 0 + d_p is the same number.
            # (With momentum 0 the buffer stays unused in effect; torch stores None there.)
            state["momentum_buffer"] = torch.zeros_like(factor, memory_format=torch.preserve_format)
        return state["momentum_buffer"]


__all__ = ["FactorizedSGD", "factor_sgd"]
