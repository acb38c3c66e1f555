"""SNIP: single-shot network pruning at initialization (Lee et al., 2019; DWF paper App. G.1).

Implemented:
* Kaiming init (`suite.methods.base.kaiming_init`), then the connection
  sensitivity z = |g ⊙ w| of every counted parameter (all Linear/Conv weights,
  plus biases unless include_bias is False), g the gradient of the mean
  cross-entropy loss on ONE batch of training data at initialization.
* The `keep_count(total, compression)` highest scores are kept globally
  (`global_topk_mask`, exact count, deterministic ties); the mask is fixed for
  all of training (gradient hooks + re-masking after every step), plain SGD,
  weight decay 0.

Decided here:
* The batch: `snip_examples` (its parameter) indices (0, the default: `cfg.batch_size`)
  drawn without replacement with the init generator (after Kaiming init drew
  from it) from data.train_x/train_y, without augmentation. Synaptic-Flow's
  reference SNIP scores on 10 examples per class; `snip_examples: 100` is that
  setting for 10 classes (README, fidelity, measures it).
* The score is computed on a deep copy of the network in training mode (as in
  the reference implementations: BatchNorm uses the batch's statistics), so
  the BatchNorm running statistics of the network that is trained are not
  touched by the scoring pass.
* Scores are not normalized (Lee et al. divide by their sum, which does not
  change a global top-k). Zero-initialized biases score 0, so they are pruned
  first (except when more entries are kept than have positive scores).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dataclasses import dataclass

from suite.config import TrialConfig
from suite.fields import MethodParams, integer, setting
from suite.methods.base import Method, Prepared, Targets, kaiming_init
from suite.methods.masks import counted_parameters, global_topk_mask, keep_count, masked_prepared
from suite.methods.style import TOL_OLIVE, PlotStyle


@dataclass(frozen=True)
class SnipParams(MethodParams):
    # 0: SNIP scores on one batch of the training batch size. Synaptic-Flow's
    # reference SNIP scores on 10 examples per class (100 for 10 classes):
    # docs/fidelity.md measures that setting on LeNet-300-100.
    snip_examples: int = setting(
        0, help="snip: training examples its one scoring batch draws (0: the training batch size).",
        sweepable=True, protocol=True, **integer(0))


def snip_batch(data, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """One training batch drawn with `generator` (CPU) from the data's training split."""
    index = torch.randperm(int(data.train_y.shape[0]), generator=generator)[:batch_size].to(data.train_x.device)
    return data.train_x[index], data.train_y[index]


def snip_scores(model: nn.Module, x: Tensor, y: Tensor, include_bias: bool = True) -> list[Tensor]:
    """|dL/dw ⊙ w| of the counted parameters, L the mean cross-entropy on (x, y)."""
    net = copy.deepcopy(model)
    net.train()
    params = [p for _, p in counted_parameters(net, include_bias)]
    loss = F.cross_entropy(net(x), y)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [(torch.zeros_like(p) if g is None else g * p).detach().abs() for g, p in zip(grads, params)]


def snip_masks(model: nn.Module, x: Tensor, y: Tensor, compression: float, include_bias: bool = True) -> list[Tensor]:
    scores = snip_scores(model, x, y, include_bias)
    return global_topk_mask(scores, keep_count(sum(s.numel() for s in scores), compression))


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data) -> Prepared:
    kaiming_init(model, generator)
    x, y = snip_batch(data, cfg.params.snip_examples or cfg.batch_size, generator)
    masks = snip_masks(model, x, y, cfg.compressions[0], cfg.include_bias)
    return masked_prepared(cfg, model, masks)


SNIP = Method(
    name="snip",
    description="SNIP: prune at init by |g * w| on one training batch (Kaiming init), mask fixed during training.",
    prepare=prepare,
    compressions=Targets.ONE,
    params=SnipParams,
    label="SNIP",
    paper_order=9,
    style=PlotStyle(TOL_OLIVE, "<"),
)
