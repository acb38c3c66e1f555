"""Magnitude pruning at initialization: a method written outside the project, as a user's plugin.

Keeps the largest |w| of the Kaiming initialization and trains with that mask fixed: one of the sanity
baselines against which pruning-at-init methods are judged (Frankle et al., "Pruning Neural Networks at
Initialization: Why Are We Missing the Mark?", ICLR 2021). Its own knob, `scope`, ranks the weights over the
whole network (global, as SNIP and SynFlow do) or within each layer (every layer keeps the same fraction,
so no layer is cut off).

It uses only the public method API, the one the built-in baselines (baselines/) use: `Method`, its
parameters as a `MethodParams` dataclass of `setting(...)` fields, `METHODS.register`, `kaiming_init`, and
the mask helpers. Run it with
`bench run --plugin docs/examples/magnitude_at_init.py --method magnitude_init --compression 100 --param
scope=layer`, or list the file under a sweep spec's `plugins:` and sweep `scope: [global, layer]`
(docs/extending.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from suite.config import TrialConfig
from suite.fields import MethodParams, one_of, setting
from suite.methods.base import METHODS, Method, Prepared, Targets, kaiming_init
from suite.methods.masks import counted_parameters, global_topk_mask, keep_count, masked_prepared
from suite.methods.style import PlotStyle


@dataclass(frozen=True)
class MagnitudeInitParams(MethodParams):
    # Its default is the global ranking it always had, so no trial stored before the knob existed moves.
    scope: str = setting("global", help="magnitude_init: rank |w| over the whole network or within each layer.",
                         sweepable=True, **one_of("global", "layer"))


def magnitude_init_masks(model: nn.Module, compression: float, scope: str, include_bias: bool) -> list[torch.Tensor]:
    """Keep the largest |w|: `keep_count` of the counted set globally, or of each tensor for "layer"."""
    scores = [p.detach().abs() for _, p in counted_parameters(model, include_bias)]
    if scope == "global":
        return global_topk_mask(scores, keep_count(sum(s.numel() for s in scores), compression))
    return [global_topk_mask([s], keep_count(s.numel(), compression))[0] for s in scores]


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    kaiming_init(model, generator)
    masks = magnitude_init_masks(model, cfg.compressions[0], cfg.params.scope, cfg.include_bias)
    return masked_prepared(cfg, model, masks)


MAGNITUDE_INIT = METHODS.register(Method(
    name="magnitude_init",
    description="Magnitude pruning at init: keep the largest |w| of the Kaiming init, mask fixed (a plugin).",
    prepare=prepare,
    params=MagnitudeInitParams,
    compressions=Targets.ONE,
    label="Magnitude at init",
    style=PlotStyle("#444444", "x"),
))
