"""Dense: no sparsification, the reference every compression is judged against, and GMP's starting point.

Kaiming init (`suite.methods.base.kaiming_init`, as for every comparison method) and plain SGD on every
parameter with the config's weight decay.

Its trained network is also where GMP starts: the dense reference of a config (`dense_reference`) is the
dense trial of the same seed and shared settings, trained once and shared through the checkpoint cache
(`context.checkpoints`, suite.results.checkpoints). The dense trial deposits its network there
(`publish_dense`, its `around_training` hook), holding the entry's lock while it trains, so a GMP trial of its
seed waits for that network instead of training a second copy; a method that starts from it calls
`trained_dense_state` from its `start` hook, which trains it exactly as the dense trial would when the cache
has none. A dense run that ended without a network is recorded too, so its GMP trials fail at once.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from suite.config import FIELDS, TrialConfig
from suite.methods.base import Method, Prepared, StartError, TrialContext, kaiming_init
from suite.methods.style import PlotStyle

NAME = "dense"


def prepare_dense(cfg: TrialConfig, model: nn.Module, generator: torch.Generator, data=None) -> Prepared:
    """Kaiming init and plain SGD on every parameter: dense, and GMP's training run."""
    kaiming_init(model, generator)
    return Prepared(model=model, param_groups=[{"params": list(model.parameters()), "weight_decay": cfg.weight_decay}])


def dense_reference(cfg: TrialConfig) -> TrialConfig:
    """The dense trial whose trained network a method starting from it (GMP) starts from: the same shared
    settings, no targets, and none of the method's own parameters."""
    shared = {name: getattr(cfg, name) for name in FIELDS}
    return TrialConfig(**{**shared, "method": NAME, "compressions": ()})


class DenseReferenceError(StartError):
    """The dense network a method starts from (GMP) ended without one (diverged)."""


def _no_dense_network(cfg: TrialConfig, key: str, status: str, checkpoints) -> DenseReferenceError:
    where = f"; recorded in {checkpoints.outcome_file(key)}, delete it to train it again" if checkpoints else ""
    return DenseReferenceError(f"the dense network that {cfg.method} starts from (dense trial {key}, seed {cfg.seed}, "
                               f"lr {cfg.lr:g}) ended {status}, so there is nothing to prune; a smaller lr trains "
                               f"it{where}")


def trained_dense_state(cfg: TrialConfig, context: TrialContext) -> dict[str, torch.Tensor]:
    """The trained weights of `dense_reference(cfg)`: from the cache, else trained here exactly as that
    dense trial trains (same seeded init and data order). DenseReferenceError when that run ends without a
    network: at once where the cache records it."""
    dense_cfg = dense_reference(cfg)
    key, checkpoints = dense_cfg.config_hash, context.checkpoints
    with checkpoints.lock(key) if checkpoints else contextlib.nullcontext():
        ended = checkpoints.outcome(key) if checkpoints else None
        if ended is not None:
            raise _no_dense_network(cfg, key, ended, checkpoints)
        state = checkpoints.get(key) if checkpoints else None
        if state is None:
            model, status = context.train_network(dense_cfg)
            if status != "ok":
                if checkpoints:
                    checkpoints.offer(key, status=status)
                raise _no_dense_network(cfg, key, status, checkpoints)
            state = model.state_dict()
            if checkpoints:
                checkpoints.offer(key, state)
    return state


def publish_dense(cfg: TrialConfig, prepared: Prepared, context: TrialContext, train):
    """Train under the cache entry's lock and deposit the network (or how the run ended) for GMP. A copy a
    GMP trial deposited first stays: on CUDA two runs need not agree bit for bit, and every GMP target of a
    seed must start from one network."""
    checkpoints = context.checkpoints
    if checkpoints is None:
        return train()
    with checkpoints.lock(cfg.config_hash):
        history, status = train()
        if status == "ok" and checkpoints.get(cfg.config_hash) is None:
            checkpoints.offer(cfg.config_hash, prepared.model.state_dict())  # a cache: a failed write warns
        elif status != "ok":
            checkpoints.offer(cfg.config_hash, status=status)  # GMP of this seed then fails at once
    return history, status


DENSE = Method(
    name=NAME,
    description="No sparsification: the dense reference (Kaiming init, plain SGD).",
    prepare=prepare_dense,
    around_training=publish_dense,
    label="Dense",
    paper_order=0,
    style=PlotStyle("#000000", "", ":"),
)
