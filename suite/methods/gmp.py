"""Global magnitude pruning (GMP) after training (Han et al., 2015; DWF paper App. G.1).

Two methods, never mixed in a table or curve (they have their own labels):

* `gmp` (the paper's GMP): train, prune, retrain. The dense network is trained
  once per seed (it *is* the `dense` trial of the same seed and settings;
  `run_trial` loads it from the checkpoint cache, or trains and caches it:
  `Method.dense_start`). Each target compression is one trial: a global
  magnitude mask over the counted set (`keep_count(total, target)` largest
  |w|, exact count) is applied to the trained weights, and the network is
  retrained with the mask held fixed (gradient hooks + re-masking after every
  step) for `finetune_epochs` epochs.
* `gmp_oneshot`: the same pruning of the same dense network at every target
  of the trial, evaluated without retraining (Fig. 1's post-hoc pruning).

Decided here (the paper cites Han et al., Frankle et al. 2020 and Lee et al.
2019 for the set-up without fixing a retraining schedule):
* Retraining restarts the trial's own schedule (its lr, momentum, cosine
  annealing, weight decay) compressed to `finetune_epochs`, i.e. learning-rate
  rewinding over a shorter budget, rather than fine-tuning at the final, tiny
  learning rate: after cosine annealing that lr is ~0, so plain fine-tuning
  would not move the weights. The shipped LeNet specs use 25 epochs, a third of
  the 75-epoch training budget (README, fidelity, gives the measurement).
* The data order of the retraining comes from the trial's own data generator
  (seeded by the seed, as every trial's).
"""

from __future__ import annotations

from torch import nn

from suite.methods.masks import magnitude_masks, magnitude_pruned, masked_prepared
from suite.config import ConfigError, TrialConfig
from suite.methods.base import EvalPoint, Method, Prepared
from suite.methods.style import TOL_ROSE, TOL_WINE, PlotStyle


def prepare_retrain(cfg: TrialConfig, model: nn.Module, generator, data=None) -> Prepared:
    """`model` holds the trained dense weights: prune to the target, retrain masked."""
    masks = magnitude_masks(model, cfg.compressions[0], cfg.include_bias)
    prepared = masked_prepared(cfg, model, masks)
    prepared.epochs = cfg.finetune_epochs
    return prepared


def prepare_oneshot(cfg: TrialConfig, model: nn.Module, generator, data=None) -> Prepared:
    """`model` holds the trained dense weights; nothing more to train."""
    return Prepared(model=model, param_groups=[{"params": list(model.parameters())}], epochs=0)


def oneshot_points(cfg: TrialConfig, final: nn.Module) -> list[EvalPoint]:
    """The trained dense network pruned at each target (increasing), no retraining."""
    points = []
    for target in sorted(cfg.compressions):
        pruned, _ = magnitude_pruned(final, target, cfg.include_bias)
        pruned.eval()
        points.append(EvalPoint("posthoc", pruned, float(target)))
    return points


def _needs_retraining(cfg: TrialConfig) -> None:
    if cfg.finetune_epochs < 1:
        raise ConfigError(f"config field 'finetune_epochs' = {cfg.finetune_epochs!r} is not allowed; allowed: an "
                          "integer >= 1 for method 'gmp' (train, prune, retrain); use method 'gmp_oneshot' for "
                          "pruning without retraining")


def _no_retraining(cfg: TrialConfig) -> None:
    if cfg.finetune_epochs != 0:
        raise ConfigError(f"config field 'finetune_epochs' = {cfg.finetune_epochs!r} is not allowed; allowed: 0 for "
                          "method 'gmp_oneshot' (use method 'gmp' to retrain after pruning)")


GMP = Method(
    name="gmp",
    description="Global magnitude pruning after dense training, then retraining with the mask fixed "
                "(finetune_epochs); one trial per target, one dense run per seed.",
    prepare=prepare_retrain,
    compressions="one",
    dense_start=True,
    validate=_needs_retraining,
    label="GMP",
    paper_order=7,
    style=PlotStyle(TOL_WINE, "^"),
)


GMP_ONESHOT = Method(
    name="gmp_oneshot",
    description="Global magnitude pruning of the trained dense network at every target, no retraining.",
    prepare=prepare_oneshot,
    compressions="many",
    evaluate_points=oneshot_points,
    dense_start=True,
    validate=_no_retraining,
    label="GMP (one-shot)",
    # Its rows are post-hoc prunings of the dense network, labelled apart from
    # GMP (retrained) so that no curve mixes the two.
    posthoc_label="GMP (one-shot)",
    paper_order=8,
    style=PlotStyle(TOL_ROSE, "v", "--"),
    posthoc_style=PlotStyle(TOL_ROSE, "v", "--"),
)
