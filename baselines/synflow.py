"""SynFlow: iterative synaptic flow pruning at initialization (Tanaka et al., 2020; DWF paper App. G.1).

Implemented (data-independent; the data are used only for their input shape):
* Kaiming init (`suite.methods.base.kaiming_init`), then on a deep copy of the
  network in float64 with BatchNorm in eval mode and every floating parameter
  and buffer replaced by its absolute value |θ|:
  for k = 1..100: the counted parameters are set to |θ₀| ⊙ mask, the input is
  an all-ones tensor of shape (1, *data.input_shape), R = sum of the outputs,
  the score is |∂R/∂θ ⊙ θ|, and the mask becomes the global top
  keep_k = round(total · (1/compression)^(k/100)) of the scores (the
  exponential schedule), with keep_100 = `keep_count(total, compression)`
  exactly.
* The mask is then fixed for all of training (gradient hooks + re-masking
  after every step), plain SGD, weight decay 0. The counted set is all
  Linear/Conv weights, plus biases unless include_bias is False.

Decided here:
* Scoring happens on a float64 copy, so the network to be trained keeps its
  exact float32 values and signs (the reference implementation flips signs in
  place and restores them; the copy makes restoring unnecessary).
* Entries pruned in an earlier round score -inf in later rounds, so a pruned
  entry can never come back, even when more entries are kept than have a
  positive score (e.g. behind dead units); ties among equal scores are broken
  by position (`global_topk_mask`), so every round hits its count exactly.
* Zero-initialized biases score |∂R/∂b · 0| = 0 and are pruned first, which
  is SynFlow's behaviour on any zero-valued parameter.
* `ITERATIONS = 100` as in Tanaka et al.
"""

from __future__ import annotations

import copy
import itertools
import math

import torch
from torch import Tensor, nn

from suite.config import TrialConfig
from suite.methods.base import Method, Prepared, Targets, kaiming_init
from suite.methods.masks import counted_parameters, global_topk_mask, keep_count, masked_prepared
from suite.methods.style import COLORBLIND, PlotStyle

ITERATIONS = 100


def _linearized_copy(model: nn.Module) -> nn.Module:
    net = copy.deepcopy(model).double()
    net.eval()
    with torch.no_grad():
        for tensor in itertools.chain(net.parameters(), net.buffers()):
            if tensor.is_floating_point():
                tensor.abs_()
    return net


def synflow_scores(net: nn.Module, params: list[nn.Parameter], input_shape) -> list[Tensor]:
    """|∂R/∂θ ⊙ θ| for R = sum(net(ones)); `net` is already linearized (|θ|, float64)."""
    ones = torch.ones((1, *input_shape), dtype=torch.float64, device=params[0].device)
    r = net(ones).sum()
    grads = torch.autograd.grad(r, params, allow_unused=True)
    return [(torch.zeros_like(p) if g is None else g * p).detach().abs() for g, p in zip(grads, params)]


def synflow_masks(model: nn.Module, compression: float, input_shape, include_bias: bool = True,
                  iterations: int = ITERATIONS) -> list[Tensor]:
    net = _linearized_copy(model)
    params = [p for _, p in counted_parameters(net, include_bias)]
    originals = [p.detach().clone() for p in params]
    total = sum(p.numel() for p in params)
    final_keep = keep_count(total, compression)
    masks = [torch.ones_like(p, dtype=torch.bool) for p in params]
    for k in range(1, iterations + 1):
        with torch.no_grad():
            for param, original, mask in zip(params, originals, masks):
                param.copy_(original * mask)
        scores = synflow_scores(net, params, input_shape)
        scores = [torch.where(mask, score, -math.inf) for score, mask in zip(scores, masks)]
        keep = final_keep if k == iterations \
            else max(final_keep, int(round(total * (1.0 / compression) ** (k / iterations))))
        masks = global_topk_mask(scores, keep)
    return [m.to(p.device) for m, p in zip(masks, params)]


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data) -> Prepared:
    kaiming_init(model, generator)
    masks = synflow_masks(model, cfg.compressions[0], data.input_shape, cfg.include_bias)
    return masked_prepared(cfg, model, masks)


SYNFLOW = Method(
    name="synflow",
    description="SynFlow: data-free iterative pruning at init (100 rounds, exponential schedule, Kaiming init).",
    prepare=prepare,
    compressions=Targets.ONE,
    label="SynFlow",
    paper_order=10,
    style=PlotStyle(COLORBLIND[9], ">"),
)
