"""Shared mask machinery of the pruning baselines, and the post-hoc pruning ladder.

Every method sparsifies the *counted set* of `suite.core.metrics.counted_tensors`:
the weights of all Linear/Conv layers and, unless `include_bias` is False,
their biases (BatchNorm stays dense and uncounted). `counted_parameters`
returns exactly these tensors, as live Parameters, in the same order.

Masks are boolean tensors shaped like their parameter (True = kept).

* `global_topk_mask(scores, keep)` keeps exactly `keep` entries over all
  tensors together (global, not layer-wise). Ties at the threshold are broken
  deterministically by position in the flattened concatenation (earlier
  tensors, then earlier entries, win); NaN scores count as -inf.
* `keep_count(total, compression) = max(1, round(total / compression))`.
* Keeping pruned entries exactly zero during training: `apply_masks` zeros
  them in place; gradient hooks multiply every gradient by its mask (so SGD's
  momentum buffers of pruned entries stay exactly zero); `after_step` of the
  Prepared re-applies `param.mul_(mask)` after every optimizer step (a guard
  against anything else that could move a pruned entry, e.g. weight decay).
* `posthoc_ladder`: the evaluation of L1 and PILoT (DWF paper Sec. 5.1,
  Fig. 1 right): the trained network at its inherent sparsity, then global
  magnitude pruning at increasing compression ratios, no fine-tuning, at every
  target above the inherent sparsity (no stop at chance: each seed then has a
  row at every target, so a target's median and mean are over every seed).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn

from suite.config import FLOAT32_EPS, TrialConfig
from suite.core.dwf.factorization import prunable_layers
from suite.grid import PRUNING_TARGETS
from suite.methods.base import EvalPoint, Prepared
from suite.core.metrics import sparsity_stats

# Default post-hoc ladder: the targets the pruning baselines train on (the
# paper's 15 log-spaced ratios in [10, 1e5] plus Table 2's levels), rounded
# as the sweep grids are, so L1/PILoT points line up with GMP's in tables.
DEFAULT_LADDER: tuple[float, ...] = PRUNING_TARGETS


def counted_parameters(model: nn.Module, include_bias: bool = True) -> list[tuple[str, nn.Parameter]]:
    """(name, Parameter) of every counted weight/bias of a plain (unfactorized)
    model, in the order of `suite.core.metrics.counted_tensors`."""
    out = []
    for name, module in prunable_layers(model):
        weight = module._parameters.get("weight")
        if not isinstance(weight, nn.Parameter):
            raise ValueError(f"layer {name!r} has no plain weight Parameter (factorized?); masks need a plain model")
        out.append((f"{name}.weight", weight))
        bias = module._parameters.get("bias")
        if include_bias and bias is not None:
            out.append((f"{name}.bias", bias))
    return out


def keep_count(total: int, compression: float) -> int:
    """Entries to keep so that total / kept is the target compression ratio."""
    if not compression >= 1:
        raise ValueError(f"compression must be >= 1, got {compression}")
    return max(1, int(round(total / compression)))


def global_topk_mask(scores: list[Tensor], keep: int) -> list[Tensor]:
    """Boolean masks keeping exactly `keep` of the highest scores over all tensors.

    Exact and deterministic: everything strictly above the keep-th largest
    score is kept, and of the entries equal to it the first ones in the
    flattened concatenation fill the remaining slots. A selection, not a full
    sort, so it is cheap enough for SynFlow's 100 rounds on large networks.
    """
    if not scores:
        return []
    device = scores[0].device
    flat = torch.cat([s.detach().reshape(-1).to(device=device, dtype=torch.float64) for s in scores])
    flat = torch.where(torch.isnan(flat), -math.inf, flat)
    n = flat.numel()
    keep = int(keep)
    if keep >= n:
        mask = torch.ones(n, dtype=torch.bool, device=device)
    elif keep <= 0:
        mask = torch.zeros(n, dtype=torch.bool, device=device)
    else:
        # The keep-th largest score (a partial top-k is cheaper when few are kept).
        if keep <= n // 2:
            threshold = torch.topk(flat, keep, sorted=False).values.min()
        else:
            threshold = torch.kthvalue(flat, n - keep + 1).values
        mask = flat >= threshold
        extra = int(mask.sum()) - keep
        if extra > 0:  # ties at the threshold: drop the last ones
            ties = torch.nonzero(flat == threshold).squeeze(1)
            mask[ties[ties.numel() - extra:]] = False
    sizes = [s.numel() for s in scores]
    return [m.view(s.shape) for m, s in zip(torch.split(mask, sizes), scores)]


def random_mask(shapes: list[torch.Size], keep: int, generator: torch.Generator, device=None) -> list[Tensor]:
    """Uniformly random global mask with exactly `keep` entries (drawn on CPU from `generator`)."""
    sizes = [int(math.prod(s)) for s in shapes]
    flat = torch.zeros(sum(sizes), dtype=torch.bool)
    flat[torch.randperm(flat.numel(), generator=generator)[:keep]] = True
    return [m.view(s).to(device) for m, s in zip(torch.split(flat, sizes), shapes)]


@torch.no_grad()
def apply_masks(params: list[Tensor], masks: list[Tensor]) -> None:
    """Zero the pruned entries in place."""
    for param, mask in zip(params, masks):
        param.mul_(mask)


def attach_gradient_masks(params: list[nn.Parameter], masks: list[Tensor]) -> list:
    """Multiply every gradient by its mask (so momentum of pruned entries stays zero).
    Returns the hook handles."""
    handles = []
    for param, mask in zip(params, masks):
        handles.append(param.register_hook(lambda grad, mask=mask: grad * mask))
    return handles


def masked_prepared(cfg: TrialConfig, model: nn.Module, masks: list[Tensor]) -> Prepared:
    """An SGD set-up (the config's weight decay, 0 for the LeNets) whose counted parameters stay masked.
    Decay moves no pruned entry: it is zero, and `after_step` re-applies the masks anyway.

    `masks` follow `counted_parameters(model, cfg.include_bias)`; the model is
    not re-initialized here.
    """
    params = [p for _, p in counted_parameters(model, cfg.include_bias)]
    if len(params) != len(masks) or any(p.shape != m.shape for p, m in zip(params, masks)):
        raise ValueError("masks do not match the counted parameters of the model")
    masks = [m.to(device=p.device, dtype=torch.bool) for p, m in zip(params, masks)]
    apply_masks(params, masks)
    handles = attach_gradient_masks(params, masks)
    return Prepared(
        model=model,
        param_groups=[{"params": list(model.parameters()), "weight_decay": cfg.weight_decay}],
        after_step=lambda: apply_masks(params, masks),
        state={"masks": masks, "hook_handles": handles},
    )


# --------------------------------------------------------------------------- magnitude pruning


def magnitude_masks(model: nn.Module, compression: float, include_bias: bool = True) -> list[Tensor]:
    """Global magnitude pruning masks of the counted set at a target compression."""
    params = [p for _, p in counted_parameters(model, include_bias)]
    keep = keep_count(sum(p.numel() for p in params), compression)
    return global_topk_mask([p.detach().abs() for p in params], keep)


def magnitude_pruned(model: nn.Module, compression: float, include_bias: bool = True) -> tuple[nn.Module, list[Tensor]]:
    """(a pruned copy of `model`, its masks): global magnitude pruning by |w|, no fine-tuning."""
    pruned = copy.deepcopy(model)
    masks = magnitude_masks(pruned, compression, include_bias)
    apply_masks([p for _, p in counted_parameters(pruned, include_bias)], masks)
    return pruned, masks


@torch.no_grad()
def zero_below_threshold(model: nn.Module, include_bias: bool = True, threshold: float = FLOAT32_EPS) -> nn.Module:
    """A copy of `model` with every counted |w| < threshold set to exactly zero,
    so the evaluated function matches what `sparsity_stats` counts."""
    plain = copy.deepcopy(model)
    for _, param in counted_parameters(plain, include_bias):
        param[param.abs() < threshold] = 0.0
    return plain


def posthoc_ladder(cfg: TrialConfig, final: nn.Module) -> list[EvalPoint]:
    """The trained network at its inherent sparsity, then post-hoc magnitude pruning.

    1. "final": `final` with sub-threshold counted weights set exactly to zero.
    2. "posthoc": global magnitude pruning (no fine-tuning) at each target of
       cfg.compressions (else `DEFAULT_LADDER`), in increasing order, skipping
       targets at or below the inherent compression ratio. Every such target is
       kept, also past the first at chance accuracy: a ladder that stopped there
       would leave the seeds that reach chance earlier out of the sparser targets'
       statistics, which would then be over the luckier seeds only.
    """
    base = zero_below_threshold(final, cfg.include_bias)
    base.eval()
    points = [EvalPoint("final", base, None)]
    inherent = sparsity_stats(base, cfg.include_bias).compression_ratio
    targets = sorted(set(cfg.compressions)) if cfg.compressions else list(DEFAULT_LADDER)
    for target in targets:
        if target <= inherent:
            continue
        pruned, _ = magnitude_pruned(base, target, cfg.include_bias)
        pruned.eval()
        points.append(EvalPoint("posthoc", pruned, float(target)))
    return points
