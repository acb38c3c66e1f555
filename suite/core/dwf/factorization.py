"""Deep Weight Factorization (Kolb et al., ICLR 2025): factorize, initialize, collapse.

Every weight and bias of every Linear/Conv layer becomes the elementwise
product of D factors, w = omega_1 * ... * omega_D. BatchNorm parameters stay
plain. The factors replace the layer's `weight`/`bias` Parameters; forward
pre-hooks multiply them into the tensors the layers' own forwards read, so any
architecture built from nn.Linear / nn.ConvNd works unchanged: one hook on the
factorized network forms all its products in one call (`NetworkComposer`),
and each layer's own hook forms its products when the layer is called alone.

L2 on the factors, (lambda / D) * sum_d ||omega_d||^2, is equivalent to the
non-smooth L_{2/D} penalty lambda * ||w||_{2/D}^{2/D} on the collapsed weights
(Theorem 1); `factor_weight_decay` maps lambda to SGD weight decay.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from suite.config import FLOAT32_EPS
from suite.core.dwf.composer import COMPOSED_OUTSIDE, COMPOSER, NetworkComposer
from suite.core.dwf.product import factor_product

PRUNABLE_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_FACTORS = "_dwf_factors"  # attribute: {"weight": ParameterList, "bias": ...}


def prunable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Linear and Conv layers in definition order: the set DWF factorizes."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, PRUNABLE_TYPES)]


def fan_in(module: nn.Module) -> int:
    weight = layer_tensor(module, "weight")
    return int(weight[0].numel())


def base_std(module: nn.Module, base_init: str) -> float:
    """Std of the standard initialization the DWF product matches.

    lecun: N(0, 1/fan_in), the case the paper's exposition uses (Sec. 4.1).
    kaiming: N(0, 2/fan_in), He et al. for ReLU networks.
    """
    gains = {"lecun": 1.0, "kaiming": 2.0}
    if base_init not in gains:
        raise ValueError(f"base_init {base_init!r} not allowed; allowed: {sorted(gains)}")
    return math.sqrt(gains[base_init] / fan_in(module))


# App. G.2's "omega_min = 3e-3", read as Algorithm 1's eps: a bound on |product|.
PRODUCT_BOUND = 3e-3
# The readings of Algorithm 1's upper bound on |factor| (`truncation_bounds`).
OMEGA_MAX_READINGS = ("product", "factor")


def factor_bound(omega_min: float | None, depth: int) -> float:
    """The lower bound on |factor|: `omega_min` itself, or for None Algorithm 1's
    eps^(1/D) with eps = App. G.2's 3e-3. Measured on LeNet-300-100 / F-MNIST
    (README, fidelity), this reading gives 1.6-4 points more accuracy at the same
    compression than 3e-3 on the factor, and matches the paper's Table 1 cell."""
    return PRODUCT_BOUND ** (1.0 / depth) if omega_min is None else omega_min


def truncation_bounds(sigma_w: float, depth: int, omega_min: float | None,
                      omega_max: str = "product") -> tuple[float, float]:
    """(lower, upper) bound on |factor| of Algorithm 1 for one layer.

    The lower bound is `factor_bound(omega_min, depth)`. The upper bound is
    min(1, (2 sigma_w)^(1/D)) as Algorithm 1 writes it ("product": |product| <= 2 sigma_w),
    or min(1, 2 sigma_w^(1/D)) ("factor": two standard deviations of the factor).
    """
    if omega_max not in OMEGA_MAX_READINGS:
        raise ValueError(f"omega_max {omega_max!r} not allowed; allowed: {list(OMEGA_MAX_READINGS)}")
    omega_min = factor_bound(omega_min, depth)
    scale = (2.0 * sigma_w) ** (1.0 / depth) if omega_max == "product" else 2.0 * sigma_w ** (1.0 / depth)
    omega_max = min(1.0, scale)
    if not 0.0 <= omega_min < omega_max:
        raise ValueError(f"omega_min={omega_min} must lie in [0, omega_max={omega_max:.4g})")
    return omega_min, omega_max


def sample_truncated_factor(shape, std: float, lo: float, hi: float, generator: torch.Generator) -> torch.Tensor:
    """N(0, std^2) conditioned on lo < |x| < hi, by inverse-CDF sampling.

    Exact equivalent of Algorithm 1's rejection loop ("repeat ... until"),
    without its unbounded number of draws: sample |x| from the half-normal
    restricted to (lo, hi) and attach a random sign.
    """
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64),
                                        torch.tensor(std, dtype=torch.float64))
    cdf_lo, cdf_hi = (normal.cdf(torch.tensor(lo, dtype=torch.float64)),
                      normal.cdf(torch.tensor(hi, dtype=torch.float64)))
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    magnitude = normal.icdf(cdf_lo + u * (cdf_hi - cdf_lo)).clamp(min=math.nextafter(lo, hi),
                                                                  max=math.nextafter(hi, lo))
    sign = torch.randint(0, 2, shape, generator=generator, dtype=torch.int8).to(torch.float64) * 2 - 1
    return (sign * magnitude).to(torch.float32)


def dwf_init_factors(shape, sigma_w: float, depth: int, omega_min: float | None, generator: torch.Generator,
                     omega_max: str = "product") -> list[torch.Tensor]:
    """Algorithm 1: factors ~ N(0, sigma_w^(2/D)) truncated to omega_min < |.| < omega_max."""
    lo, hi = truncation_bounds(sigma_w, depth, omega_min, omega_max)
    std = sigma_w ** (1.0 / depth)
    return [sample_truncated_factor(shape, std, lo, hi, generator) for _ in range(depth)]


def standard_init_factors(shape, sigma_w: float, depth: int, generator: torch.Generator) -> list[torch.Tensor]:
    """spred / "standard initialization" of a factorized layer: every factor drawn
    from the layer's standard init N(0, sigma_w^2) itself, with no variance
    matching and no truncation (Ziyin & Wang, 2023; the DWF paper's Lemma 2 and
    Fig. 12b analyse exactly this case with LeCun sigma_w^2 = 1/fan_in)."""
    return [torch.randn(shape, generator=generator) * sigma_w for _ in range(depth)]


def layer_tensor(module: nn.Module, name: str) -> torch.Tensor | None:
    """The layer's weight or bias, whether plain or factorized (collapsed product)."""
    if is_factorized(module) and name in module._modules[_FACTORS]:
        return _product(module._modules[_FACTORS][name])
    return getattr(module, name, None)


def _product(factors) -> torch.Tensor:
    # One autograd node per tensor (suite/core/dwf/product.py), not D-1.
    return factor_product(factors)


def _compose_factors(module: nn.Module, _inputs) -> None:
    # Runs before every forward: the layer's own forward then reads the
    # collapsed product as if it were a plain parameter. Skipped inside the
    # network's forward, for which its NetworkComposer formed the products.
    if module.__dict__.get(COMPOSED_OUTSIDE, False) and _inputs is not None:
        return
    for name, factors in getattr(module, _FACTORS).items():
        setattr(module, name, _product(factors))


def layer_factors(module: nn.Module) -> dict[str, nn.ParameterList]:
    """{"weight": its factors, "bias": ...} of a factorized layer; {} for a plain one."""
    factors = module._modules.get(_FACTORS)
    return dict(factors.items()) if factors is not None else {}


def factorized_tensors(model: nn.Module) -> list[tuple[nn.Module, str, list[nn.Parameter]]]:
    """(layer, "weight" or "bias", its factors) for every factorized tensor of `model`."""
    return [(module, name, list(factors)) for _, module in prunable_layers(model) if is_factorized(module)
            for name, factors in module._modules[_FACTORS].items()]


def factorize(
    model: nn.Module,
    depth: int,
    init: str = "dwf",
    omega_min: float | None = None,
    base_init: str = "kaiming",
    omega_max: str = "product",
    include_bias: bool = True,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Factorize every Linear/Conv weight (and bias) of `model` in place.

    init="dwf": Algorithm 1 (variance matching + truncation), biases included
    (they use the layer's sigma_w, so bias factors are never all zero, Remark 1).
    init="standard": every factor from the standard initialization (spred).
    """
    if depth < 2:
        raise ValueError(f"depth must be >= 2 for a factorization, got {depth}")
    generator = generator or torch.Generator().manual_seed(0)
    for _, module in prunable_layers(model):
        names = ["weight"] + (["bias"] if include_bias and module.bias is not None else [])
        sigma_w = base_std(module, base_init)
        factors = {}
        for name in names:
            param = module._parameters.pop(name)
            if init == "dwf":
                values = dwf_init_factors(param.shape, sigma_w, depth, omega_min, generator, omega_max)
            elif init == "standard":
                values = standard_init_factors(param.shape, sigma_w, depth, generator)
            else:
                raise ValueError(f"init {init!r} not allowed; allowed: ['dwf', 'standard']")
            factors[name] = nn.ParameterList([nn.Parameter(v.to(param.device)) for v in values])
        # A Module attribute holding ParameterLists registers them as submodules,
        # so optimizers, .to(device) and state_dict see the factors.
        module.add_module(_FACTORS, nn.ModuleDict(factors))
        module.register_forward_pre_hook(_compose_factors)
        _compose_factors(module, None)
    model.__dict__[COMPOSER] = NetworkComposer(model, factorized_tensors(model))
    return model


def is_factorized(module: nn.Module) -> bool:
    return _FACTORS in module._modules


def factor_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for _, m in prunable_layers(model) if is_factorized(m) for p in m._modules[_FACTORS].parameters()]


def factor_weight_decay(lam: float, depth: int) -> float:
    """SGD weight decay on the factors equivalent to the penalty (lam/D) sum_d ||omega_d||^2.

    d/d omega_d of (lam/D) ||omega_d||^2 = (2 lam / D) omega_d, and SGD's
    weight_decay=wd adds wd * omega_d to the gradient, so wd = 2 lam / D.
    """
    return 2.0 * lam / depth


@torch.no_grad()
def collapse(model: nn.Module, threshold: float = FLOAT32_EPS) -> nn.Module:
    """A plain copy of `model` with each factorized tensor replaced by the product
    of its factors, and every |w| < threshold set to exactly zero (Alg. 2, l. 19-24)."""
    for _, module in prunable_layers(model):
        if is_factorized(module):
            # Cached products from a grad-enabled forward are non-leaf tensors,
            # which deepcopy refuses; recompute them without autograd first.
            _compose_factors(module, None)
    plain = copy.deepcopy(model)
    # The copy has no factors left to compose.
    composer = plain.__dict__.get(COMPOSER)
    if composer is not None:
        composer.remove(plain)
    for _, module in prunable_layers(plain):
        if not is_factorized(module):
            continue
        factors = module._modules.pop(_FACTORS)
        module._forward_pre_hooks.clear()
        for name, params in factors.items():
            value = _product(list(params)).detach().clone()
            value[value.abs() < threshold] = 0.0
            if name in module.__dict__:
                del module.__dict__[name]
            module.register_parameter(name, nn.Parameter(value))
    return plain


@torch.no_grad()
def misalignment(model: nn.Module) -> float:
    """Factor misalignment M(omega) = D^-1 sum_d ||omega_d||^2 - ||w||_{2/D}^{2/D} (Lemma 1),
    summed over all factorized tensors; 0 iff every factorization is balanced."""
    total = 0.0
    for _, module in prunable_layers(model):
        if not is_factorized(module):
            continue
        for params in module._modules[_FACTORS].values():
            depth = len(params)
            factor_l2 = sum(float(p.double().pow(2).sum()) for p in params) / depth
            collapsed = _product([p.double() for p in params])
            total += factor_l2 - float(collapsed.abs().pow(2.0 / depth).sum())
    return total
