"""spred (Ziyin & Wang, 2023): D = 2 factors with the standard initialization.

DWF's set-up (`suite.methods.dwf.prepare_factorized`) with every factor drawn
from the layer's standard init, no variance matching and no truncation: the
case the DWF paper's Lemma 2 and Fig. 12b analyse.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.config import TrialConfig
from suite.methods.base import Method, Prepared
from suite.methods.dwf import FactorInit, factorized_optimizer, prepare_factorized
from suite.methods.style import COLORBLIND, PlotStyle

DEPTH = 2


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    return prepare_factorized(cfg, model, generator, DEPTH, "standard")


SPRED = Method(
    name="spred",
    description="spred (Ziyin & Wang 2023): D = 2 factors with standard init, L2 on factors.",
    prepare=prepare,
    requires=frozenset({"lam"}),
    # Its base init only: standard init, nothing is truncated, so DWF's bounds are no parameters of it.
    params=FactorInit,
    fixed_depth=DEPTH,
    optimizer=factorized_optimizer,
    label="spred",
    paper_order=2,
    depth_styles={DEPTH: PlotStyle(COLORBLIND[4], "v")},
)
