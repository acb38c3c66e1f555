"""Random pruning at initialization (DWF paper App. G.1): the naive baseline.

Implemented: Kaiming init (`suite.methods.base.kaiming_init`), then a uniformly
random global mask over the counted set (all Linear/Conv weights, plus biases
unless include_bias is False) keeping exactly `keep_count(total, compression)`
entries: the first `keep` positions of a random permutation drawn from the init
generator (after Kaiming init drew from it). The mask is fixed for all of
training (gradient hooks + re-masking after every step), plain SGD, weight
decay 0.

Note: kept biases start at zero (Kaiming init zeroes biases), so right after
pruning fewer than `keep` entries are nonzero; training moves them.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.config import TrialConfig
from suite.methods.base import Method, Prepared, Targets, kaiming_init
from suite.methods.masks import counted_parameters, keep_count, masked_prepared, random_mask
from suite.methods.style import COLORBLIND, PlotStyle


def random_masks(model: nn.Module, compression: float, generator: torch.Generator, include_bias: bool = True):
    params = [p for _, p in counted_parameters(model, include_bias)]
    keep = keep_count(sum(p.numel() for p in params), compression)
    return random_mask([p.shape for p in params], keep, generator, device=params[0].device)


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    kaiming_init(model, generator)
    masks = random_masks(model, cfg.compressions[0], generator, cfg.include_bias)
    return masked_prepared(cfg, model, masks)


RANDOM = Method(
    name="random",
    description="Random pruning at init: uniformly random global mask with exactly the target count (Kaiming init).",
    prepare=prepare,
    compressions=Targets.ONE,
    label="Random",
    paper_order=11,
    style=PlotStyle(COLORBLIND[7], "."),
)
