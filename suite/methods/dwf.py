"""Deep Weight Factorization (Kolb et al., ICLR 2025) as a method.

Every Linear/Conv weight and bias becomes a product of D factors with the DWF
initialization (Alg. 1, `suite.core.dwf.factorize`); L2 on the factors, as SGD
weight decay, is the L_{2/D} penalty on the collapsed weights (Theorem 1).
BatchNorm stays plain and carries only the config's weight decay. After
training the factors are collapsed into a plain network (Alg. 2).
`prepare_factorized` is shared with spred, which differs only in depth and init.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.config import TrialConfig
from suite.core.dwf import collapse, factor_parameters, factor_weight_decay, factorize, misalignment
from suite.methods.base import Method, Prepared, split_params
from suite.methods.style import COLORBLIND, PlotStyle


def prepare_factorized(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, depth: int,
                       init: str) -> Prepared:
    """Factorize `model` into `depth` factors with `init` ("dwf" or "standard"), L2 on the factors."""
    # Every weight and bias is factorized (Sec. 3), whether or not biases are
    # counted (cfg.include_bias only decides the counted set).
    factorize(model, depth, init=init, omega_min=cfg.omega_min, base_init=cfg.base_init,
              omega_max=cfg.omega_max, include_bias=True, generator=generator)
    factors, rest = split_params(model, factor_parameters(model))
    wd = factor_weight_decay(cfg.lam, depth)
    return Prepared(
        model=model,
        # Only the factors carry the L2 penalty; BatchNorm stays unregularized.
        param_groups=[{"params": factors, "weight_decay": wd, "factorized": True},
                      {"params": rest, "weight_decay": cfg.weight_decay}],
        reg_strength=lambda: cfg.lam,
        finalize=lambda: collapse(model),
        misalignment=lambda: misalignment(model),
    )


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    return prepare_factorized(cfg, model, generator, cfg.depth, "dwf")


DWF = Method(
    name="dwf",
    description="Deep Weight Factorization: D factors, DWF init (Alg. 1), L2 on factors, collapse.",
    prepare=prepare,
    requires=frozenset({"lam", "depth"}),
    uses_depth=True,
    factorized=True,
    label="DWF",
    paper_order=1,
    depth_styles={
        2: PlotStyle(COLORBLIND[0], "o"),
        3: PlotStyle(COLORBLIND[1], "s"),
        4: PlotStyle(COLORBLIND[2], "D"),
    },
)
