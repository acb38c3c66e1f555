"""Method registry: how each sparsification method sets up, trains and is evaluated.

A method turns a freshly built network into a `Prepared` training set-up
(parameter groups for SGD, an optional loss penalty, a hook after each
optimizer step, a hook after each epoch) and, after training, into the list of
networks to evaluate (`EvalPoint`s): one for DWF (the collapsed network), one
per target for global magnitude pruning, the inherent sparsity plus post-hoc
pruned points for L1 and PILoT.

dense, dwf and spred live here; the comparison methods live beside this
module, one each, listed in `suite/methods/__init__.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from suite.config import ConfigError, TrialConfig
from suite.core.dwf import collapse, factor_parameters, factor_weight_decay, factorize, misalignment, prunable_layers


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
def final_only(cfg: TrialConfig, final: nn.Module, test_accuracy: Callable[[nn.Module], float], data) -> list[EvalPoint]:
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
    evaluate_points: Callable[..., list[EvalPoint]] = final_only
    # Whether the sweep grid's depth applies (dwf); spred fixes D = 2.
    uses_depth: bool = False
    fixed_depth: int | None = None
    # Starts from the trained dense network of the same seed and training
    # settings (GMP): run_trial loads it (or trains and caches it) before prepare.
    dense_start: bool = False
    # Its trained network is that dense network (dense itself): run_trial
    # deposits it for the dense_start methods.
    publishes_dense: bool = False
    # Method-specific checks beyond the shared ones; raises ConfigError.
    validate: Callable[[TrialConfig], None] | None = None
    # Reads the DWF-init fields (DWF_INIT_FIELDS); other methods ignore them, so
    # they do not tell two of that method's configurations apart in reports.
    factorized: bool = False


METHODS: dict[str, Method] = {}

# Config fields only the DWF initialization reads (Method.factorized).
DWF_INIT_FIELDS = frozenset({"omega_min", "base_init"})


def register_method(method: Method) -> Method:
    if method.name in METHODS:
        raise ValueError(f"method {method.name!r} registered twice")
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; allowed: {sorted(METHODS)}")
    return METHODS[name]


def list_methods() -> list[Method]:
    return [METHODS[k] for k in sorted(METHODS)]


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


def prepare_dense(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    """Kaiming init and plain SGD on every parameter: dense, and GMP's training run."""
    kaiming_init(model, generator)
    return Prepared(model=model, param_groups=[{"params": list(model.parameters()), "weight_decay": cfg.weight_decay}])


def _prepare_factorized(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, depth: int, init: str) -> Prepared:
    # Every weight and bias is factorized (Sec. 3), whether or not biases are
    # counted (cfg.include_bias only decides the counted set).
    factorize(model, depth, init=init, omega_min=cfg.omega_min, base_init=cfg.base_init,
              include_bias=True, generator=generator)
    factors, rest = split_params(model, factor_parameters(model))
    wd = factor_weight_decay(cfg.lam, depth)
    return Prepared(
        model=model,
        # Only the factors carry the L2 penalty; BatchNorm stays unregularized.
        param_groups=[{"params": factors, "weight_decay": wd}, {"params": rest, "weight_decay": cfg.weight_decay}],
        reg_strength=lambda: cfg.lam,
        finalize=lambda: collapse(model),
        misalignment=lambda: misalignment(model),
    )


register_method(Method(
    name="dense",
    description="No sparsification: the dense reference (Kaiming init, plain SGD).",
    prepare=prepare_dense,
    publishes_dense=True,
))
register_method(Method(
    name="dwf",
    description="Deep Weight Factorization: D factors, DWF init (Alg. 1), L2 on factors, collapse.",
    prepare=lambda cfg, model, gen, data=None: _prepare_factorized(cfg, model, gen, cfg.depth, "dwf"),
    requires=frozenset({"lam", "depth"}),
    uses_depth=True,
    factorized=True,
))
register_method(Method(
    name="spred",
    description="spred (Ziyin & Wang 2023): D = 2 factors with standard init, L2 on factors.",
    prepare=lambda cfg, model, gen, data=None: _prepare_factorized(cfg, model, gen, 2, "standard"),
    requires=frozenset({"lam"}),
    fixed_depth=2,
    factorized=True,
))



