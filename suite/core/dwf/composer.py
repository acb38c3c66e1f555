"""`NetworkComposer`: every DWF product of a factorized network, formed once per forward.

A forward pre-hook on the network forms all its products in one call and sets
them as the layers' `weight`/`bias`; each layer's own pre-hook
(`suite/core/dwf/factorization.py`) then stands aside for that forward, so a step records one
autograd node per network rather than one per tensor
(`suite/core/dwf/product.py` says why that pays).

In leaf mode (`use_leaves`, switched on by `suite.core.dwf.step.FactorizedSGD`)
the products are plain leaf tensors instead: autograd stops at them, and the
optimizer's fused step updates the factors from their gradients and writes the
new products back. A factor changed by anything else in place (a loaded
state_dict, `factor.mul_(0)` under no_grad) bumps the factor's version
counter, and the next forward recomputes the products from the factors, so the
forward never reads a stale w. Writes through `factor.data` bypass the
counter and are not seen: change factors in place, not through `.data`.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.core.dwf.product import factor_products

# Layer attribute: True while the network's composer has formed this layer's
# products for the network forward under way.
COMPOSED_OUTSIDE = "dwf_composed_outside"
# Root attribute: the factorized network's NetworkComposer.
COMPOSER = "dwf_composer"

Entry = tuple[nn.Module, str, list[nn.Parameter]]  # (layer, "weight" or "bias", its factors)


class NetworkComposer:
    def __init__(self, model: nn.Module, entries: list[Entry]):
        self.entries = entries
        self.leaves: list[torch.Tensor] | None = None
        self.versions: tuple[int, ...] | None = None
        self.generation = 0  # counts rebuilds of `leaves`, so a user of them knows when to look again
        self.hook_ids = (model.register_forward_pre_hook(self.compose).id,
                         model.register_forward_hook(self.release, always_call=True).id)

    def compose(self, _model, _inputs) -> None:
        if self.leaves is not None:
            self._refresh_leaves()
            products = self.leaves
        else:
            products = factor_products([factors for _, _, factors in self.entries])
        for (layer, name, _), product in zip(self.entries, products):
            setattr(layer, name, product)
            layer.__dict__[COMPOSED_OUTSIDE] = True

    def release(self, _model, _inputs, _output) -> None:
        # Past the network's forward, a layer called alone forms its own products.
        for layer, _, _ in self.entries:
            layer.__dict__[COMPOSED_OUTSIDE] = False

    # Leaf mode ----------------------------------------------------------------

    def use_leaves(self) -> None:
        """From now on the forward reads each product as a leaf tensor (see the module docstring)."""
        self._rebuild_leaves()

    def use_products(self) -> None:
        """Back to products recorded by autograd (the factors get their own gradients)."""
        self.leaves, self.versions = None, None

    def _rebuild_leaves(self) -> None:
        # Normal tensors even inside inference_mode: a training backward saves them later.
        with torch.inference_mode(False), torch.no_grad():
            products = factor_products([factors for _, _, factors in self.entries])
            self.leaves = [p.detach().clone().requires_grad_(True) for p in products]
        self.generation += 1
        self.mark_fresh()

    def leaf_entries(self) -> list[tuple[torch.Tensor, list[nn.Parameter]]]:
        return list(zip(self.leaves or [], (factors for _, _, factors in self.entries)))

    def clear_leaf_grads(self) -> None:
        for leaf in self.leaves or []:
            leaf.grad = None

    def _factor_versions(self) -> tuple[int, ...]:
        return tuple(f._version for _, _, factors in self.entries for f in factors)

    def mark_fresh(self) -> None:
        """The leaves hold the products of the factors as they are now."""
        self.versions = self._factor_versions()

    def _refresh_leaves(self) -> None:
        if self._factor_versions() != self.versions or any(
                leaf.device != factors[0].device for leaf, (_, _, factors) in zip(self.leaves, self.entries)):
            self._rebuild_leaves()

    def remove(self, model: nn.Module) -> None:
        """Take the composer's hooks off `model` (the network it was built for, or a copy)."""
        model.__dict__.pop(COMPOSER, None)
        pre_id, post_id = self.hook_ids
        model._forward_pre_hooks.pop(pre_id, None)
        model._forward_hooks.pop(post_id, None)
        model._forward_hooks_always_called.pop(post_id, None)
        for layer, _, _ in self.entries:
            layer.__dict__.pop(COMPOSED_OUTSIDE, None)


__all__ = ["COMPOSED_OUTSIDE", "COMPOSER", "NetworkComposer"]
