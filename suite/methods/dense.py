"""Dense: no sparsification, the reference every compression is judged against.

Kaiming init (`suite.methods.base.kaiming_init`, as for every comparison
method) and plain SGD on every parameter with the config's weight decay. Its
trained network is also the starting point of GMP (`publishes_dense`).
"""

from __future__ import annotations

import torch
from torch import nn

from suite.config import TrialConfig
from suite.methods.base import Method, Prepared, kaiming_init
from suite.methods.style import PlotStyle


def prepare_dense(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    """Kaiming init and plain SGD on every parameter: dense, and GMP's training run."""
    kaiming_init(model, generator)
    return Prepared(model=model, param_groups=[{"params": list(model.parameters()), "weight_decay": cfg.weight_decay}])


DENSE = Method(
    name="dense",
    description="No sparsification: the dense reference (Kaiming init, plain SGD).",
    prepare=prepare_dense,
    publishes_dense=True,
    label="Dense",
    paper_order=0,
    style=PlotStyle("#000000", "", ":"),
)
