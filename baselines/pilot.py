"""PILoT: continuous sparsification x = m ⊙ w with a time-dependent regularization
(Jacobs & Burkholz, "Mask in the Mirror: Implicit Sparsification").

Implemented:
* Parametrization: every counted tensor x (all Linear/Conv weights, plus
  biases unless include_bias is False) becomes m ⊙ w with m and w both
  trained, through the same mechanism as DWF (`suite.core.dwf.factorization.factorize` with
  D = 2: factor 0 is m, factor 1 is w; a forward pre-hook composes the
  product). BatchNorm parameters (and biases when include_bias is False) stay
  plain and unregularized.
* Initialization: x₀ from Kaiming init (`suite.methods.base.kaiming_init`, as for
  every baseline), then m₀ = sqrt((1 + sqrt(1 + 4 x₀²)) / 2), w₀ = x₀ / m₀,
  computed in float64 and stored in float32. Hence m₀² − w₀² = 1,
  m₀ > |w₀| and m₀ w₀ = x₀ (the paper's sign-flip-friendly init: m > |w|, so
  x can change sign without passing through m = 0).
* Regularization α_t (‖m‖² + ‖w‖²) over all m and w, implemented as SGD weight
  decay 2 α_t on their parameter group (d/dθ α θ² = 2 α θ), α₀ = cfg.lam.
  The group's weight_decay is updated in `on_epoch_end`, so α_t is constant
  within an epoch. Schedules (its `pilot_schedule`, allowed: `SCHEDULES`), with
  k = 1, 2, ... the epoch index and α_1 = α₀ for every schedule:
    - "budget" (default; the paper's Algorithm 1): after every epoch, if
      ‖m ⊙ w‖₁ > budget then α ← α · BUDGET_RAISE else α ← α · BUDGET_DECAY,
      with budget = `pilot_budget` · ‖x₀‖₁ (L1 norm of the counted set at init);
    - "harmonic": α_k = α₀ / k;  "quadratic": α_k = α₀ / k²;
    - "geometric": α_k = α₀ · GEOMETRIC_RATE^(k−1);  "constant": α_k = α₀.
* Plain SGD (momentum from the config) on the trial's lr (the paper's lr 0.2
  is a sweep setting). After training the product m ⊙ w is collapsed into a
  plain network with |x| < 1.19e-7 set to zero (`suite.core.dwf.factorization.collapse`).
* Evaluation like L1 (`suite.methods.masks.posthoc_ladder`): the inherent
  sparsity ("final"), then post-hoc global magnitude pruning at increasing
  ratios, no fine-tuning, at every target above the inherent sparsity.

Decided here (the paper and the brief leave these open):
* BUDGET_RAISE = 1.1 and BUDGET_DECAY = 0.9: the multiplicative factors of the
  budget controller; ‖m ⊙ w‖₁ is measured once per epoch, after the epoch.
* GEOMETRIC_RATE = 0.95; schedules are indexed so that epoch 1 uses α₀.
* `reg_strength` reports the α that acted during the epoch just finished (the
  history record of epoch k shows α_k), α₀ before training.
* `misalignment` reports DWF's factor misalignment of the (m, w) pairs, a
  diagnostic only (PILoT does not balance m and w: m² − w² is 1 at init).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from suite.config import TrialConfig
from suite.core.dwf.factorization import (
    collapse, factor_parameters, factorize, factorized_tensors, layer_factors, misalignment, prunable_layers,
)
from suite.fields import MethodParams, is_number, one_of, setting, to_float
from suite.methods.base import Method, Prepared, Targets, kaiming_init, split_params, unread
from suite.methods.masks import posthoc_ladder
from suite.methods.style import TOL_TEAL, PlotStyle

SCHEDULES = ("budget", "harmonic", "quadratic", "geometric", "constant")
BUDGET_RAISE = 1.1
BUDGET_DECAY = 0.9
GEOMETRIC_RATE = 0.95


@dataclass(frozen=True)
class PilotParams(MethodParams):
    pilot_schedule: str = setting(
        "budget", help="PILoT regularization schedule.", sweepable=True, protocol=True, **one_of(*SCHEDULES))
    pilot_budget: float = setting(
        0.1, help="PILoT's L1 budget for ||m * w||_1 as a fraction of its value at init.", sweepable=True,
        protocol=True, accepts=lambda v: is_number(v) and v > 0, allowed="a finite number > 0", convert=to_float)


def pilot_init_values(x0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(m₀, w₀) with m₀ w₀ = x₀ and m₀² − w₀² = 1 (so m₀ > |w₀|)."""
    x = x0.detach().to(torch.float64)
    m = torch.sqrt((1.0 + torch.sqrt(1.0 + 4.0 * x * x)) / 2.0)
    return m.to(x0.dtype), (x / m).to(x0.dtype)


def pilot_factors(model: nn.Module) -> list[tuple[nn.Parameter, nn.Parameter]]:
    """(m, w) of every factorized counted tensor."""
    return [(factors[0], factors[1]) for _, _, factors in factorized_tensors(model)]


@torch.no_grad()
def product_l1(model: nn.Module) -> float:
    """‖m ⊙ w‖₁ over the counted set."""
    return sum(float((m * w).abs().double().sum()) for m, w in pilot_factors(model))


def alpha_at(schedule: str, alpha0: float, epoch: int) -> float:
    """α_k of the open-loop schedules for epoch k >= 1 (not "budget")."""
    if schedule == "harmonic":
        return alpha0 / epoch
    if schedule == "quadratic":
        return alpha0 / epoch**2
    if schedule == "geometric":
        return alpha0 * GEOMETRIC_RATE ** (epoch - 1)
    if schedule == "constant":
        return alpha0
    raise ValueError(f"pilot_schedule {schedule!r} not allowed here; allowed: {list(SCHEDULES)}")


def factorize_pilot(model: nn.Module, include_bias: bool = True) -> nn.Module:
    """Turn every counted tensor x₀ of a (Kaiming-initialized) plain model into m₀ ⊙ w₀ in place."""
    x0 = {}
    for name, module in prunable_layers(model):
        x0[(name, "weight")] = module.weight.detach().clone()
        if include_bias and module.bias is not None:
            x0[(name, "bias")] = module.bias.detach().clone()
    # The factors' random "standard" values are overwritten below; a private
    # generator keeps the trial's init generator untouched.
    factorize(model, 2, init="standard", include_bias=include_bias, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for name, module in prunable_layers(model):
            factors = layer_factors(module)
            for tensor_name, params in factors.items():
                m0, w0 = pilot_init_values(x0[(name, tensor_name)])
                params[0].copy_(m0)
                params[1].copy_(w0)
            # Refresh the composed tensors the layer reads.
            for tensor_name, params in factors.items():
                setattr(module, tensor_name, params[0] * params[1])
    return model


def prepare(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    kaiming_init(model, generator)
    factorize_pilot(model, cfg.include_bias)
    factors, rest = split_params(model, factor_parameters(model))
    alpha0 = float(cfg.lam)
    group = {"params": factors, "weight_decay": 2.0 * alpha0}
    state = {
        "alpha": alpha0, "alpha_used": alpha0, "group": group,
        "budget": cfg.params.pilot_budget * product_l1(model), "schedule": cfg.params.pilot_schedule,
    }

    def on_epoch_end(epoch: int) -> None:
        state["alpha_used"] = state["alpha"]
        if state["schedule"] == "budget":
            above = product_l1(model) > state["budget"]
            state["alpha"] *= BUDGET_RAISE if above else BUDGET_DECAY
        else:
            state["alpha"] = alpha_at(state["schedule"], alpha0, epoch + 1)
        # The optimizer holds this very dict (torch.optim keeps the group dicts
        # it is given), so the next epoch's steps use the new decay.
        group["weight_decay"] = 2.0 * state["alpha"]

    return Prepared(
        model=model,
        param_groups=[group, {"params": rest, "weight_decay": 0.0}],
        on_epoch_end=on_epoch_end,
        reg_strength=lambda: state["alpha_used"],
        finalize=lambda: collapse(model),
        misalignment=lambda: misalignment(model),
        state=state,
    )


def no_weight_decay(cfg: TrialConfig) -> None:
    """Its own schedule is the regularization: the shared weight decay stays at its default."""
    unread(cfg, "weight_decay")


PILOT = Method(
    name="pilot",
    description="PILoT (Jacobs & Burkholz): x = m * w, m0^2 - w0^2 = 1 init, "
                "time-dependent L2 alpha_t on m, w; post-hoc ladder.",
    prepare=prepare,
    requires=frozenset({"lam"}),
    params=PilotParams,
    compressions=Targets.OPTIONAL,
    evaluate_points=posthoc_ladder,
    validate=no_weight_decay,
    label="PILoT",
    posthoc_label="PILoT + GMP",
    paper_order=3,
    style=PlotStyle(TOL_TEAL, "P"),
    posthoc_style=PlotStyle(TOL_TEAL, "p", "--"),
)
