"""Vanilla L1 regularization with plain SGD (DWF paper Sec. 5.1, Fig. 1).

Implemented:
* The unfactorized network, Kaiming init (`suite.methods.base.kaiming_init`), loss
  = cross-entropy + λ‖w‖₁ with λ = cfg.lam and ‖w‖₁ summed over the counted
  set (all Linear/Conv weights, plus biases unless include_bias is False);
  plain SGD (weight decay 0) under the shared protocol. Autograd's subgradient
  of |w| is sign(w) (0 at w = 0), so the update adds λ·sign(w) to the gradient.
* Evaluation (`compressions="optional"`, `suite.methods.masks.posthoc_ladder`,
  shared with PILoT): first the "final" point, the trained network at its
  inherent sparsity with every counted |w| < 1.19e-7 set exactly to zero (so
  accuracy is measured on the network that is counted); then "posthoc"
  points: global magnitude pruning of that network (no fine-tuning) at the
  targets of cfg.compressions, else 15 log-spaced ratios from 10 to 1e5, in
  increasing order, skipping targets at or below the inherent compression
  (every such target: no stop at chance, so each target has every seed).

As the paper shows, SGD on the non-smooth L1 penalty oscillates around zero
instead of reaching it, so the inherent sparsity is typically small.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.config import TrialConfig
from suite.methods.base import Method, Prepared, Targets, kaiming_init, unread
from suite.methods.masks import counted_parameters, posthoc_ladder
from suite.methods.style import TOL_INDIGO, PlotStyle


def l1_penalty(params: list[nn.Parameter], lam: float) -> torch.Tensor:
    return lam * sum(p.abs().sum() for p in params)


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    kaiming_init(model, generator)
    params = [p for _, p in counted_parameters(model, cfg.include_bias)]
    lam = float(cfg.lam)
    return Prepared(
        model=model,
        param_groups=[{"params": list(model.parameters()), "weight_decay": 0.0}],
        penalty=lambda: l1_penalty(params, lam),
        reg_strength=lambda: lam,
    )


L1 = Method(
    name="l1",
    description="Vanilla L1 penalty with plain SGD (Kaiming init): inherent sparsity "
                "+ post-hoc magnitude pruning ladder.",
    prepare=prepare,
    requires=frozenset({"lam"}),
    validate=lambda cfg: unread(cfg, "weight_decay"),  # vanilla L1: its penalty, no L2 beside it
    compressions=Targets.OPTIONAL,
    evaluate_points=posthoc_ladder,
    label="Vanilla L1",
    posthoc_label="L1 + GMP",
    paper_order=5,
    style=PlotStyle(TOL_INDIGO, "X"),
    posthoc_style=PlotStyle(TOL_INDIGO, "x", "--"),
)
