"""Global magnitude pruning (GMP) after training (Han et al., 2015; DWF paper App. G.1).

Implemented:
* Training: the dense network, Kaiming init (`suite.methods.kaiming_init`,
  Table 4 note), plain SGD with weight decay 0 under the shared protocol.
* Evaluation (`compressions="many"`): one trained network serves every target
  of `cfg.compressions`. For each target (in increasing order) a copy of the
  trained network is pruned globally by |w| over the counted set (all
  Linear/Conv weights, plus biases unless include_bias is False) to exactly
  `keep_count(total, target)` nonzeros, and evaluated as
  `EvalPoint("posthoc", copy, target)`. No fine-tuning, as in the paper.

Decided here:
* With `cfg.finetune_epochs > 0` each pruned copy is fine-tuned with its mask
  held fixed (gradient hooks + re-masking after every step) for that many
  epochs with `suite.train.train`: the trial's lr, momentum and schedule
  (the schedule restarts over the fine-tuning epochs), weight decay 0, data
  order from a generator seeded with 1_000_003 * (target index + 1) + seed so
  it differs per target and from the main run.
* Without any target in cfg.compressions the dense network is returned as the
  single "final" point (target None), so a trial never yields no row.
"""

from __future__ import annotations

import torch
from torch import nn

from baselines.masks import magnitude_pruned, masked_prepared
from suite.config import TrialConfig
from suite.methods import EvalPoint, Method, prepare_dense, register_method


def finetune(cfg: TrialConfig, pruned: nn.Module, masks, data, seed: int) -> nn.Module:
    """Fine-tune a pruned copy in place with its mask fixed; returns it in eval mode."""
    from suite.train import train  # late: suite.train imports the method registry

    prepared = masked_prepared(cfg, pruned, masks)
    train(cfg, prepared, data, torch.Generator().manual_seed(seed), epochs=cfg.finetune_epochs)
    for handle in prepared.state["hook_handles"]:
        handle.remove()
    pruned.eval()
    return pruned


def evaluate_points(cfg: TrialConfig, final: nn.Module, test_accuracy, data) -> list[EvalPoint]:
    if not cfg.compressions:
        return [EvalPoint("final", final, None)]
    points = []
    for index, target in enumerate(sorted(cfg.compressions)):
        pruned, masks = magnitude_pruned(final, target, cfg.include_bias)
        if cfg.finetune_epochs > 0:
            pruned = finetune(cfg, pruned, masks, data, 1_000_003 * (index + 1) + cfg.seed)
        pruned.eval()
        points.append(EvalPoint("posthoc", pruned, float(target)))
    return points


register_method(Method(
    name="gmp",
    description="Global magnitude pruning after dense training (Kaiming init), every target from one run, no fine-tuning.",
    prepare=prepare_dense,
    compressions="many",
    evaluate_points=evaluate_points,
))
