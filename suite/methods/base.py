"""What a sparsification method is: the `Method` type and the `METHODS` registry.

A method turns a freshly built network into a `Prepared` training set-up
(parameter groups for SGD, an optional loss penalty, a hook after each
optimizer step, a hook after each epoch) and, after training, into the list of
networks to evaluate (`EvalPoint`s): one for DWF (the collapsed network), one
per target for global magnitude pruning, the inherent sparsity plus post-hoc
pruned points for L1 and PILoT. Each method also carries how reports show it:
its paper label, post-hoc label, paper order and plot style.

The methods live beside this module, one each; `suite/methods/__init__.py`
registers the built-in ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from suite.config import TrialConfig
from suite.core.dwf import prunable_layers
from suite.methods.style import PlotStyle
from suite.registry import Registry


@dataclass
class Prepared:
    """What the training loop needs from a method."""

    model: nn.Module
    param_groups: list[dict]
    # Extra loss term added to the data loss each step (L1, PILoT).
    penalty: Callable[[], torch.Tensor] | None = None
    # Called after every optimizer step (masks are re-applied here).
    after_step: Callable[[], None] | None = None
    # Called after every epoch with the epoch index (PILoT's schedule).
    on_epoch_end: Callable[[int], None] | None = None
    # Current regularization strength, logged in the history.
    reg_strength: Callable[[], float] | None = None
    # Network to evaluate after training; default: the trained model itself.
    finalize: Callable[[], nn.Module] | None = None
    # Misalignment of the factors, for factorized methods.
    misalignment: Callable[[], float] | None = None
    # Epochs to train; default: the config's. GMP retrains for finetune_epochs.
    epochs: int | None = None
    state: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EvalPoint:
    """One network to evaluate: a row of the result store."""

    point: str  # "final" or "posthoc"
    model: nn.Module
    target_compression: float | None = None


# Default: the trained (finalized) network, evaluated once.
def final_only(cfg: TrialConfig, final: nn.Module) -> list[EvalPoint]:
    target = cfg.compressions[0] if cfg.compressions else None
    return [EvalPoint("final", final, target)]


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    # prepare(cfg, model, init_generator, data) -> Prepared; model is on its device.
    prepare: Callable[..., Prepared]
    # Config fields that must be set (e.g. {"lam"} or {"depth", "lam"}).
    requires: frozenset[str] = frozenset()
    # How the method uses `compressions`: "none"; "one" (a single target per
    # trial: prune at init); "many" (every target evaluated after one run);
    # "optional" (post-hoc ladder; a default ladder when none is given).
    compressions: str = "none"
    evaluate_points: Callable[[TrialConfig, nn.Module], list[EvalPoint]] = final_only
    # Whether the sweep grid's depth applies (dwf); spred fixes D = 2.
    uses_depth: bool = False
    fixed_depth: int | None = None
    # Starts from the trained dense network of the same seed and training
    # settings (GMP): run_trial loads it (or trains and caches it) before prepare.
    dense_start: bool = False
    # Its trained network is that dense network (dense itself): run_trial
    # deposits it for the dense_start methods.
    publishes_dense: bool = False
    # Scores its mask on a batch of training data at init (SNIP): reads `snip_examples`.
    scores_on_data: bool = False
    # Method-specific checks beyond the shared ones; raises ConfigError.
    validate: Callable[[TrialConfig], None] | None = None
    # Config fields it does not read, beyond those the shared checks know (`lam` where it does not
    # require it, `finetune_epochs` without a dense start, `snip_examples` without scoring on data):
    # they must keep their defaults.
    ignores: frozenset[str] = frozenset()
    # Reads the DWF-init fields (suite.config.DWF_INIT_FIELDS); other methods ignore them, so
    # they do not tell two of that method's configurations apart in reports.
    factorized: bool = False
    # How reports show it (suite/methods/labels.py). `label`: the paper's name
    # (default: `name`), followed by " (D=depth)" for a method with a depth.
    label: str = ""
    # Label of its post-hoc pruned rows (point "posthoc"); None: f"{label} + GMP".
    posthoc_label: str | None = None
    # Position in the paper's tables and legends; None: after the paper's methods.
    paper_order: int | None = None
    # Figure style of its rows, of its post-hoc rows, and per depth for a
    # method with a depth (a depth without a style gets a fallback).
    style: PlotStyle | None = None
    posthoc_style: PlotStyle | None = None
    depth_styles: dict[int, PlotStyle] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def needs_targets(self) -> bool:
        """Its trials need compression targets ("one" or "many"): the sweep's axis is the target."""
        return self.compressions in ("one", "many")

    @property
    def has_depth(self) -> bool:
        """Its rows differ by factorization depth (label "DWF (D=3)")."""
        return self.uses_depth or self.fixed_depth is not None


# Filled with the built-in methods by suite/methods/__init__.py; plugins add theirs.
METHODS: Registry[Method] = Registry("method")


def kaiming_init(model: nn.Module, generator: torch.Generator) -> None:
    """Standard Kaiming (He) normal init for the comparison methods (Table 4 note):
    weights N(0, 2/fan_in), biases zero."""
    for _, module in prunable_layers(model):
        fan_in = module.weight[0].numel()
        with torch.no_grad():
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
            if module.bias is not None:
                module.bias.zero_()


def split_params(model: nn.Module, chosen: list[nn.Parameter]) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(chosen, the rest) — the rest are e.g. BatchNorm parameters."""
    ids = {id(p) for p in chosen}
    return chosen, [p for p in model.parameters() if id(p) not in ids]
