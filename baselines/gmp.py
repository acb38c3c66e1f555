"""Global magnitude pruning (GMP) after training (Han et al., 2015; DWF paper App. G.1).

Two methods, never mixed in a table or curve (they have their own labels):

* `gmp` (the paper's GMP): train, prune, retrain. The dense network is trained
  once per seed (it *is* the `dense` trial of the same seed and settings;
  its `start` hook loads it from the checkpoint cache, or trains and caches it:
  `suite.methods.dense.trained_dense_state`). Each target compression is one trial: a global
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
  the 75-epoch training budget (docs/fidelity.md gives the measurement), and
  that third is GMP's default (`GMPParams`).
* The data order of the retraining comes from the trial's own data generator
  (seeded by the seed, as every trial's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from torch import nn

from suite.config import MAX_EPOCHS, TrialConfig
from suite.fields import MethodParams, is_integer, setting
from suite.methods.base import EvalPoint, Method, Prepared, Targets, TrialContext
from suite.methods.dense import trained_dense_state
from suite.methods.masks import magnitude_masks, magnitude_pruned, masked_prepared
from suite.methods.style import TOL_ROSE, TOL_WINE, PlotStyle


def default_finetune_epochs(epochs: int) -> int:
    """A third of the training epochs, at least one: 25 of the 75 the paper's LeNet protocol trains, the
    budget the shipped specs give GMP (docs/fidelity.md measures it), and a quick look (`--epochs 1`) stays
    a quick look rather than retraining 25 epochs after one."""
    return max(1, round(epochs / 3))


@dataclass(frozen=True)
class GMPParams(MethodParams):
    # Han et al., 2015: train, prune, retrain. Stored trials of every method carried 0 here (a field of
    # every config then), so the hash leaves it out at 0, not at its default: no stored key moves.
    finetune_epochs: int | None = setting(
        None, help="gmp: retraining epochs with the mask fixed after pruning (default: a third of the training "
        "epochs, at least 1; 25 of 75).", sweepable=True, protocol=True, stored_default=0,
        accepts=lambda v: v is None or (is_integer(v) and 1 <= v <= MAX_EPOCHS),
        allowed=f"an integer >= 1 and <= {MAX_EPOCHS} (gmp retrains; use method 'gmp_oneshot' for pruning "
                "without retraining), or null for a third of the training epochs")

    def resolved(self, shared: Mapping[str, Any]) -> "GMPParams":
        if self.finetune_epochs is not None:
            return self
        return GMPParams(finetune_epochs=default_finetune_epochs(shared["epochs"]))


def dense_start(cfg: TrialConfig, context: TrialContext) -> dict:
    """Both forms start from the trained dense network of the seed (suite.methods.dense)."""
    return trained_dense_state(cfg, context)


def prepare_retrain(cfg: TrialConfig, model: nn.Module, generator, data=None) -> Prepared:
    """`model` holds the trained dense weights: prune to the target, retrain masked."""
    masks = magnitude_masks(model, cfg.compressions[0], cfg.include_bias)
    prepared = masked_prepared(cfg, model, masks)
    prepared.epochs = cfg.params.finetune_epochs
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


GMP = Method(
    name="gmp",
    description="Global magnitude pruning after dense training, then retraining with the mask fixed "
                "(finetune_epochs); one trial per target, one dense run per seed.",
    prepare=prepare_retrain,
    params=GMPParams,
    compressions=Targets.ONE,
    start=dense_start,
    label="GMP",
    paper_order=7,
    style=PlotStyle(TOL_WINE, "^"),
)


GMP_ONESHOT = Method(
    name="gmp_oneshot",
    description="Global magnitude pruning of the trained dense network at every target, no retraining.",
    prepare=prepare_oneshot,
    compressions=Targets.MANY,
    evaluate_points=oneshot_points,
    start=dense_start,
    label="GMP (one-shot)",
    # Its rows are post-hoc prunings of the dense network, labelled apart from
    # GMP (retrained) so that no curve mixes the two.
    posthoc_label="GMP (one-shot)",
    paper_order=8,
    style=PlotStyle(TOL_ROSE, "v", "--"),
    posthoc_style=PlotStyle(TOL_ROSE, "v", "--"),
)
