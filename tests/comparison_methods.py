"""The comparison methods' test setup (suite/methods/), shared by test_pruning_masks, test_snip_synflow,
test_l1_pilot and test_baseline_trials: the methods of each kind, LeNet-300-100 on the synthetic data,
a trial config per method, SynFlow's masks computed once (the `data` fixture is conftest's)."""

from __future__ import annotations

import functools

import torch
from torch import nn

from suite.config import TrialConfig
from suite.core.models.registry import build_model
from baselines import synflow
from suite.builtins import METHODS
from suite.methods.base import kaiming_init
from suite.methods.masks import counted_parameters

# From the registry, so a new method of a kind is tested without editing a list.
# One target per trial: the method prunes to it (a mask), then trains with the mask fixed.
PRUNING = [m.name for m in METHODS.values() if m.compressions == "one"]
# ... pruning a fresh network, not the trained dense one (GMP).
PRUNE_AT_INIT = [name for name in PRUNING if METHODS.get(name).start is None]
# Inherent sparsity, then post-hoc pruning at increasing targets (L1, PILoT).
POSTHOC_LADDER = [m.name for m in METHODS.values() if m.compressions == "optional"]
SHAPE = (1, 28, 28)


def lenet300() -> nn.Module:
    return build_model("lenet300", 10, SHAPE)


def cfg_for(method: str, **kw) -> TrialConfig:
    base = {"model": "lenet300", "dataset": "synthetic", "method": method, "epochs": 1, "batch_size": 256, "lr": 0.1}
    if "lam" in METHODS.get(method).requires:
        base["lam"] = 1e-4
    if method == "gmp":
        base["finetune_epochs"] = 1
    base.update(kw)
    return TrialConfig(**base)


def counted(model, include_bias=True):
    return [p for _, p in counted_parameters(model, include_bias)]


@functools.lru_cache(maxsize=None)
def synflow_lenet300(seed: int, target: float) -> tuple[torch.Tensor, ...]:
    """SynFlow's masks for LeNet-300-100 after Kaiming init from `seed`, computed
    once per (seed, target): SynFlow's 100 rounds dominate the run time of the tests that use it."""
    model = lenet300()
    kaiming_init(model, torch.Generator().manual_seed(seed))
    return tuple(synflow.synflow_masks(model, target, SHAPE))
