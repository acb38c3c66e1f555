"""Counting and evaluation: what every method's result is measured with.

The counted set is the set DWF factorizes: all weights (and, unless biases are
excluded, all biases) of Linear/Conv layers. Every method is counted over the
same set, so compression ratios are comparable across methods. A parameter is
nonzero when its |value| >= the float32-epsilon threshold (App. G.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from suite.config import FLOAT32_EPS
from suite.core.dwf.factorization import layer_tensor, prunable_layers


def counted_tensors(model: nn.Module, include_bias: bool = True) -> list[tuple[str, torch.Tensor]]:
    """(name, tensor) of every counted weight/bias, collapsed if factorized."""
    out = []
    for name, module in prunable_layers(model):
        out.append((f"{name}.weight", layer_tensor(module, "weight")))
        bias = layer_tensor(module, "bias")
        if include_bias and bias is not None:
            out.append((f"{name}.bias", bias))
    return out


@dataclass(frozen=True)
class LayerCount:
    layer: str
    total: int
    nonzero: int


@dataclass(frozen=True)
class SparsityStats:
    layers: tuple[LayerCount, ...]
    l2_norm: float

    @property
    def total(self) -> int:
        return sum(c.total for c in self.layers)

    @property
    def nonzero(self) -> int:
        return sum(c.nonzero for c in self.layers)

    @property
    def compression_ratio(self) -> float:
        return self.total / self.nonzero if self.nonzero else math.inf

    @property
    def sparsity(self) -> float:
        return 1.0 - self.nonzero / self.total


@torch.no_grad()
def sparsity_stats(model: nn.Module, include_bias: bool = True, threshold: float = FLOAT32_EPS) -> SparsityStats:
    """Per-layer totals and nonzeros (weight and bias of a layer counted together)
    and the L2 norm of the counted (collapsed) parameters.

    Each collapsed tensor is formed once; the counts and squared norms stay on
    the device and come to the host in one transfer (one sync per call on a GPU)."""
    names, totals, nonzeros, sq_norms = [], [], [], []
    for name, tensor in counted_tensors(model, include_bias):
        names.append(name.rsplit(".", 1)[0])
        totals.append(tensor.numel())
        # NaN compares False with <, so a diverged weight counts as nonzero.
        nonzeros.append((~(tensor.abs() < threshold)).sum())
        sq_norms.append(tensor.double().pow(2).sum())
    counts = torch.stack(nonzeros).tolist() if nonzeros else []
    sq_norm = sum(torch.stack(sq_norms).tolist()) if sq_norms else 0.0
    per_layer: dict[str, list[int]] = {}
    for layer, total, nonzero in zip(names, totals, counts):
        entry = per_layer.setdefault(layer, [0, 0])
        entry[0] += total
        entry[1] += int(nonzero)
    layers = tuple(LayerCount(k, v[0], v[1]) for k, v in per_layer.items())
    return SparsityStats(layers=layers, l2_norm=math.sqrt(sq_norm))


@torch.no_grad()
def evaluate(model: nn.Module, batches) -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of `model` over `batches`, in eval mode.

    Per-batch sums stay on the device and are read in one transfer at the end,
    so a GPU is not synchronised per batch; they are added on the host in
    float64, in batch order, as before."""
    was_training = model.training
    model.eval()
    losses, hits, count = [], [], 0
    for x, y in batches:
        logits = model(x)
        losses.append(F.cross_entropy(logits, y, reduction="sum"))
        hits.append((logits.argmax(1) == y).sum())
        count += y.numel()
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate() got no batches: the split is empty")
    return sum(torch.stack(losses).tolist()) / count, sum(torch.stack(hits).tolist()) / count
