"""Deep Weight Factorization (Kolb et al., ICLR 2025) as a method.

Every Linear/Conv weight and bias becomes a product of D factors with the DWF
initialization (Alg. 1, `suite.core.dwf.factorization.factorize`); L2 on the factors, as SGD
weight decay, is the L_{2/D} penalty on the collapsed weights (Theorem 1).
BatchNorm stays plain and carries only the config's weight decay. After
training the factors are collapsed into a plain network (Alg. 2).
`prepare_factorized` and the base-init parameter are shared with spred, which
differs only in depth and init. Its optimizer (`factorized_optimizer`) is the
fused factor step (suite/core/dwf/step.py) where it is wanted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn

from suite.config import ConfigError, TrialConfig
from suite.core.data.registry import DATASETS
from suite.core.dwf.factorization import (
    OMEGA_MAX_READINGS, collapse, factor_parameters, factor_weight_decay, factorize, misalignment, prunable_layers,
    truncation_bounds,
)
from suite.core.dwf.compile import compiled_factor_sgd, fused_step_wanted
from suite.core.dwf.composer import COMPOSER
from suite.core.dwf.step import FactorizedSGD
from suite.core.models.registry import build_model
from suite.fields import MethodParams, is_number, one_of, setting, to_float
from suite.methods.base import Method, Prepared, split_params
from suite.methods.style import COLORBLIND, PlotStyle


@dataclass(frozen=True)
class FactorInit(MethodParams):
    """The base init whose variance the factors' product matches (dwf and spred)."""

    # kaiming (2/fan_in), the comparison methods' (Table 4 note), or lecun (1/fan_in), the paper's
    # exposition's (docs/decisions.md).
    base_init: str = setting(
        "kaiming", help="DWF/spred init: base variance, kaiming (2/fan_in) or lecun (1/fan_in).", sweepable=True,
        protocol=True, **one_of("lecun", "kaiming"))


@dataclass(frozen=True)
class DWFParams(FactorInit):
    """Algorithm 1's truncation bounds on |factor|."""

    # None is App. G.2's "omega_min = 3e-3" read as the bound eps on |product|,
    # i.e. (3e-3)^(1/D) per factor (docs/decisions.md: the reading the data support).
    omega_min: float | None = setting(
        None, help="DWF init: lower bound on |factor| (default: (3e-3)^(1/D), App. G.2's 3e-3 on the product).",
        sweepable=True, protocol=True, accepts=lambda v: v is None or (is_number(v) and 0 <= v < 1),
        allowed="null (App. G.2's 3e-3 on the product) or a factor bound in [0, 1)", convert=to_float)
    # Algorithm 1 caps |factor| at (2 sigma_w)^(1/D), i.e. |product| <= 2 sigma_w: only 1.2-1.4 factor
    # standard deviations, so the product keeps 23-42% of the variance Sec. 4.1 matches (Kaiming, 784
    # inputs) and the min{1, .} cap binds only below 8 inputs. "factor" reads it as 2 sigma_w^(1/D),
    # two factor standard deviations: 0.9-2.3x the matched variance (docs/decisions.md).
    omega_max: str = setting(
        "product", help="DWF init: upper bound on |factor|: product = (2 sigma_w)^(1/D) (Algorithm 1 as "
        "written), factor = 2 sigma_w^(1/D) (two factor standard deviations).", sweepable=True, protocol=True,
        **one_of(*OMEGA_MAX_READINGS))


def prepare_factorized(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, depth: int,
                       init: str) -> Prepared:
    """Factorize `model` into `depth` factors with `init` ("dwf" or "standard"), L2 on the factors."""
    # Every weight and bias is factorized (Sec. 3), whether or not biases are
    # counted (cfg.include_bias only decides the counted set).
    params = cfg.params
    factorize(model, depth, init=init, omega_min=getattr(params, "omega_min", None), base_init=params.base_init,
              omega_max=getattr(params, "omega_max", "product"), include_bias=True, generator=generator)
    factors, rest = split_params(model, factor_parameters(model))
    wd = factor_weight_decay(cfg.lam, depth)
    composer = model.__dict__.get(COMPOSER)
    return Prepared(
        model=model,
        # Only the factors carry the L2 penalty; BatchNorm stays unregularized.
        param_groups=[{"params": factors, "weight_decay": wd, "factorized": True},
                      {"params": rest, "weight_decay": cfg.weight_decay}],
        reg_strength=lambda: cfg.lam,
        finalize=lambda: collapse(model),
        misalignment=lambda: misalignment(model),
        # The compiled fused step and the eager one agree only up to float rounding: a re-run that must
        # match a stored row bit for bit needs to know which it was.
        device_note=lambda: "compiled DWF step" if composer is not None and composer.leaves is not None else None,
    )


def factorized_optimizer(cfg: TrialConfig, prepared: Prepared) -> torch.optim.Optimizer | None:
    """The factors' update fused with their gradients, compiled (suite/core/dwf/step.py), where wanted: DWF
    has D times the parameters, so the optimizer is most of its cost. Else None (plain SGD), with the
    network back on products recorded by autograd (one an earlier FactorizedSGD left in leaf mode)."""
    device = next(prepared.model.parameters()).device
    composer = prepared.model.__dict__.get(COMPOSER)
    if composer is not None and fused_step_wanted(device):
        return FactorizedSGD(prepared.param_groups, composer, compiled_factor_sgd(), lr=cfg.lr,
                             momentum=cfg.momentum, fused=device.type in ("cpu", "cuda"))
    if composer is not None:
        composer.use_products()
    return None


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    return prepare_factorized(cfg, model, generator, cfg.depth, "dwf")


def check_init_bounds(cfg: TrialConfig) -> None:
    """ConfigError unless Algorithm 1's truncation interval is open in every layer (an omega_min above a
    layer's upper bound left nothing to sample): checked on the model's fan-ins, before any training."""
    if cfg.depth is not None:
        p = cfg.params
        _check_init_bounds(cfg.model, cfg.dataset, cfg.depth, p.omega_min, p.omega_max, p.base_init)


@functools.lru_cache(maxsize=256)
def _check_init_bounds(model: str, dataset: str, depth: int, omega_min, omega_max: str, base_init: str) -> None:
    spec = DATASETS.get(dataset)
    with torch.device("meta"):
        network = build_model(model, spec.num_classes, spec.input_shape)
    for name, layer in prunable_layers(network):
        fan_in = layer.weight[0].numel()
        sigma_w = (2.0 / fan_in if base_init == "kaiming" else 1.0 / fan_in) ** 0.5
        try:
            truncation_bounds(sigma_w, depth, omega_min, omega_max)
        except ValueError as exc:
            raise ConfigError(f"config field 'omega_min' = {omega_min!r} is not allowed for {model} at depth {depth}: "
                              f"layer {name}: {exc}; allowed: a factor bound below every layer's upper bound") from None


DWF = Method(
    name="dwf",
    description="Deep Weight Factorization: D factors, DWF init (Alg. 1), L2 on factors, collapse.",
    prepare=prepare,
    params=DWFParams,
    requires=frozenset({"lam", "depth"}),
    uses_depth=True,
    optimizer=factorized_optimizer,
    validate=check_init_bounds,
    label="DWF",
    paper_order=1,
    depth_styles={
        2: PlotStyle(COLORBLIND[0], "o"),
        3: PlotStyle(COLORBLIND[1], "s"),
        4: PlotStyle(COLORBLIND[2], "D"),
    },
)
