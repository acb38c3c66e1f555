"""Magnitude pruning at initialization: a method written outside the project, as a user's plugin.

Keeps the largest |w| of the Kaiming initialization (global, over the counted weights) and trains with
that mask fixed: one of the sanity baselines against which pruning-at-init methods are judged (Frankle
et al., "Pruning Neural Networks at Initialization: Why Are We Missing the Mark?", ICLR 2021).

It uses only the public method API, the one the built-in baselines use: `Method`, `METHODS.register`,
`kaiming_init`, and the mask helpers. Run it with
`bench run --plugin docs/examples/magnitude_at_init.py --method magnitude_init --compression 100 ...`,
or list the file under a sweep spec's `plugins:` (docs/extending.md).
"""

from __future__ import annotations

import torch
from torch import nn

from suite.config import TrialConfig
from suite.methods.base import METHODS, Method, Prepared, kaiming_init
from suite.methods.masks import magnitude_masks, masked_prepared
from suite.methods.style import PlotStyle


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    kaiming_init(model, generator)
    masks = magnitude_masks(model, cfg.compressions[0], cfg.include_bias)
    return masked_prepared(cfg, model, masks)


MAGNITUDE_INIT = METHODS.register(Method(
    name="magnitude_init",
    description="Magnitude pruning at init: keep the largest |w| of the Kaiming init, mask fixed (a plugin).",
    prepare=prepare,
    compressions="one",
    label="Magnitude at init",
    style=PlotStyle("#444444", "x"),
))
