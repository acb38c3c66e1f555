"""The public method API: what a sparsification method is, and the `METHODS` registry.

A method is a `Method` record: its own parameters (a frozen `MethodParams` dataclass of `setting(...)`
fields, suite.fields), and its lifecycle as named hooks that the trainer (suite.train) calls without
knowing which method it runs:

* `prepare(cfg, model, generator, data) -> Prepared`: the training set-up of a freshly built network
  (parameter groups for SGD, an optional loss penalty, hooks after each step and epoch);
* `start(cfg, context)`: the weights the trial starts from instead of its own init (GMP: the trained dense
  network of its seed);
* `optimizer(cfg, prepared)`: the optimizer it needs (DWF: its fused factor step), else SGD with momentum;
* `around_training(cfg, prepared, context, train)`: how its training runs (the dense reference publishes
  its trained network for GMP under a lock);
* `evaluate_points(cfg, final)`: the networks to evaluate after training (`EvalPoint`s): one for DWF (the
  collapsed network), one per target for one-shot pruning, the inherent sparsity plus post-hoc pruned
  points for L1 and PILoT;
* `validate(cfg)`: its own rules beyond what each field accepts.

Each method also carries how reports show it: its paper label, post-hoc label, paper order and plot style.
The built-in methods (suite/methods/ for DWF, spred and the dense reference; baselines/ for the comparison
methods) are registered one line each by `suite.builtins`; a plugin registers its own the same way, with
`METHODS.register(...)` (docs/extending.md).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from suite.config import DEFAULTS, FIELDS, FLAT_PARAM_DEFAULTS, ConfigError, TrialConfig
from suite.fields import MethodParams, baseline_of, equals_default, register_params
from suite.core.dwf.factorization import prunable_layers
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
    # What the row's `device` adds after training, in parentheses (DWF: that it took the compiled fused
    # step, which agrees with the eager one only up to float rounding); None: nothing.
    device_note: Callable[[], str | None] | None = None
    state: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EvalPoint:
    """One network to evaluate: a row of the result store."""

    point: str  # "final" or "posthoc"
    model: nn.Module
    target_compression: float | None = None


@dataclass(frozen=True)
class TrialContext:
    """What a trial runs with beyond its config, for the lifecycle hooks: its data (on its device), the
    device, the cache trials share trained networks through (suite.results.checkpoints; None: nothing
    shared), and `train_network(cfg)`: another config's network trained here exactly as its own trial
    trains it (same seeded init and data order), returned with its status ("ok", "diverged", ...)."""

    data: Any
    device: torch.device
    checkpoints: Any
    train_network: Callable[[TrialConfig], tuple[nn.Module, str]]


class StartError(RuntimeError):
    """The state a trial starts from could not be had (GMP: its dense network diverged); nothing to train."""


# Default: the trained (finalized) network, evaluated once.
def final_only(cfg: TrialConfig, final: nn.Module) -> list[EvalPoint]:
    target = cfg.compressions[0] if cfg.compressions else None
    return [EvalPoint("final", final, target)]


class Targets(str, enum.Enum):
    """How a method uses the config's compression targets; the sweep shapes its grid by it."""

    NONE = "none"  # no targets: its sparsity is what training leaves (DWF, dense)
    ONE = "one"  # one target per trial, pruned to it (pruning at init: SNIP, SynFlow, random; GMP)
    MANY = "many"  # every target evaluated after one run (one-shot GMP)
    OPTIONAL = "optional"  # a post-hoc ladder; a default ladder when none is given (L1, PILoT)


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    # prepare(cfg, model, init_generator, data) -> Prepared; model is on its device.
    prepare: Callable[..., Prepared]
    # Its own parameters: a frozen MethodParams dataclass (suite.fields); the base class has none.
    params: type[MethodParams] = MethodParams
    # Shared config fields that must be set (e.g. {"lam"} or {"depth", "lam"}); `lam` is left at its
    # default by a method that does not require it.
    requires: frozenset[str] = frozenset()
    # How the method uses the config's `compressions` (a `Targets`; its value as text is accepted too).
    compressions: Targets = Targets.NONE
    evaluate_points: Callable[[TrialConfig, nn.Module], list[EvalPoint]] = final_only
    # Whether the sweep grid's depth applies (dwf); spred fixes D = 2.
    uses_depth: bool = False
    fixed_depth: int | None = None
    # Lifecycle hooks (module docstring); None: the default behaviour.
    # start(cfg, context) -> state_dict loaded into the built network before `prepare`, or None.
    start: Callable[[TrialConfig, TrialContext], dict | None] | None = None
    # optimizer(cfg, prepared) -> its optimizer, or None for SGD with momentum over the param groups.
    optimizer: Callable[[TrialConfig, Prepared], torch.optim.Optimizer | None] | None = None
    # around_training(cfg, prepared, context, train) -> train()'s (history, status), with what it does around.
    around_training: Callable[..., tuple[list[dict], str]] | None = None
    # Method-specific checks beyond the shared ones; raises ConfigError.
    validate: Callable[[TrialConfig], None] | None = None
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
        try:
            object.__setattr__(self, "compressions", Targets(self.compressions))
        except ValueError:
            raise ValueError(f"method {self.name!r}: compressions={self.compressions!r} is not allowed; allowed: "
                             f"{', '.join(t.value for t in Targets)}") from None

    @property
    def needs_targets(self) -> bool:
        """Its trials need compression targets (one or many): the sweep's axis is the target."""
        return self.compressions in (Targets.ONE, Targets.MANY)

    @property
    def has_depth(self) -> bool:
        """Its rows differ by factorization depth (label "DWF (D=3)")."""
        return self.uses_depth or self.fixed_depth is not None


class MethodRegistry(Registry[Method]):
    """The methods by name; registering one also makes its parameters keys of its configs."""

    def register(self, item: Method) -> Method:
        shadowed = sorted({f.name for f in dataclasses.fields(item.params)} & set(FIELDS))
        if shadowed:
            raise ValueError(f"method {item.name!r}: parameter(s) {shadowed} shadow shared config fields")
        # Every stored config carries these names at these values (they were shared fields once), and the hash
        # reads a parameter only away from them: one of that name must leave the hash at the same value, or a
        # stored config would describe a trial that never ran.
        moved = sorted(f.name for f in dataclasses.fields(item.params) if f.name in FLAT_PARAM_DEFAULTS
                       and not equals_default(baseline_of(f), FLAT_PARAM_DEFAULTS[f.name]))
        if moved:
            raise ValueError(f"method {item.name!r}: parameter(s) {moved} reuse names every stored config carries "
                             f"at {[FLAT_PARAM_DEFAULTS[n] for n in moved]}; allowed: another name, or that value "
                             "as the field's stored_default")
        super().register(item)
        register_params(item.name, item.params)
        return item


# Filled with the built-in methods by suite.builtins; plugins add theirs.
METHODS: MethodRegistry = MethodRegistry("method")


def unread(cfg: TrialConfig, *names: str) -> None:
    """ConfigError unless the shared fields `names` keep their defaults: the method does not read them, so a
    value there would change the config hash and nothing else (L1 and PILoT take no weight decay)."""
    for name in names:
        if getattr(cfg, name) != DEFAULTS[name]:
            raise ConfigError(f"config field {name!r} = {getattr(cfg, name)!r} is not allowed; allowed: "
                              f"{DEFAULTS[name]!r}, its default: method {cfg.method!r} does not read it")


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
