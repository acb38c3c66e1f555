"""run_trial(config) -> TrialResult: one training run under the paper's protocol.

SGD with momentum, cosine annealing of the learning rate per epoch, the batch
size and epochs of the config (Table 4). One seed fixes the initialization
and the data order. Knows nothing of Ray: a test, the CLI or a Ray worker
calls it the same way. Nor of any method by name: what a method does beyond
`prepare` it does in its lifecycle hooks (suite.methods.base), which
`run_trial` calls in order: start, prepare, optimizer, around_training,
evaluate_points.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import torch
import torch.nn.functional as F

from torch import nn

from suite.builtins import METHODS
from suite.config import TrialConfig
from suite.core.data.bundle import DataBundle
from suite.core.data.registry import load_dataset, require_data
from suite.core.metrics import evaluate, sparsity_stats
from suite.core.models.registry import build_model
from suite.methods.base import EvalPoint, Method, Prepared, TrialContext
from suite.methods.validation import validate_trial
from suite.provenance import environment
from suite.results.store import TrialResult

EVAL_BATCH = 2048


def resolve_device(device: str | None = None) -> torch.device:
    """The device asked for, else $BENCH_DEVICE, else CUDA when present, else CPU."""
    name = device or os.environ.get("BENCH_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    lr: float
    train_loss: float
    train_acc: float
    diverged: bool
    seconds: float


ProgressFn = Callable[[int, int, dict], None]


def _seeded_generators(seed: int) -> tuple[torch.Generator, torch.Generator]:
    """Independent streams for initialization and data order, both from one seed."""
    return torch.Generator().manual_seed(2 * seed), torch.Generator().manual_seed(2 * seed + 1)


def make_optimizer(cfg: TrialConfig, prepared: Prepared, epochs: int):
    """The method's optimizer (its `optimizer` hook), else SGD with momentum; and the lr schedule."""
    method = METHODS.get(cfg.method) if cfg.method in METHODS else None
    optimizer = method.optimizer(cfg, prepared) if method is not None and method.optimizer else None
    if optimizer is None:
        device = next(prepared.model.parameters()).device
        # The fused kernel does weight decay, momentum and the update in one pass over memory.
        optimizer = torch.optim.SGD(prepared.param_groups, lr=cfg.lr, momentum=cfg.momentum,
                                    fused=device.type in ("cpu", "cuda"))
    if cfg.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    return optimizer, scheduler


def train_step(prepared: Prepared, optimizer, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step on the batch (x, y); returns (loss without penalty, logits)."""
    logits = prepared.model(x)
    loss = F.cross_entropy(logits, y)
    total = loss + prepared.penalty() if prepared.penalty else loss
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    if prepared.after_step:
        prepared.after_step()
    return loss, logits


def train_epoch(prepared: Prepared, optimizer, data: DataBundle, batch_size: int, generator: torch.Generator,
                epoch: int) -> EpochStats:
    model = prepared.model
    model.train()
    start = time.perf_counter()
    lr = optimizer.param_groups[0]["lr"]
    loss_sum = torch.zeros((), device=data.train_x.device)
    correct = torch.zeros((), device=data.train_x.device, dtype=torch.long)
    count = 0
    for x, y in data.train_batches(batch_size, generator):
        loss, logits = train_step(prepared, optimizer, x, y)
        # Accumulate on the device: a .item() per step would sync a GPU.
        loss_sum += loss.detach() * y.numel()
        correct += (logits.detach().argmax(1) == y).sum()
        count += y.numel()
    train_loss = float(loss_sum) / count
    return EpochStats(epoch, lr, train_loss, int(correct) / count, not math.isfinite(train_loss),
                      time.perf_counter() - start)


def history_record(cfg_hash: str, stats: EpochStats, prepared: Prepared, data: DataBundle, include_bias: bool) -> dict:
    test_loss, test_acc = evaluate(prepared.model, data.eval_batches("test", EVAL_BATCH))
    sp = sparsity_stats(prepared.model, include_bias)
    return {
        "config_hash": cfg_hash, "epoch": stats.epoch, "lr": stats.lr,
        "train_loss": stats.train_loss, "train_acc": stats.train_acc,
        "test_loss": test_loss, "test_acc": test_acc,
        "compression_ratio": sp.compression_ratio, "l2_norm": sp.l2_norm,
        "misalignment": prepared.misalignment() if prepared.misalignment else None,
        "reg_strength": prepared.reg_strength() if prepared.reg_strength else None,
        "epoch_time_s": stats.seconds,
    }


def train(cfg: TrialConfig, prepared: Prepared, data: DataBundle, generator: torch.Generator,
          progress: ProgressFn | None = None, epochs: int | None = None) -> tuple[list[dict], str]:
    """Train for the config's epochs; returns (history records, "ok" | "diverged" | "collapsed").

    Stops early when the loss is not finite ("diverged") or when every counted
    weight is zero after an epoch ("collapsed"): with every weight below the
    zero threshold the activations are about constant and the weight gradients
    about zero, so the remaining epochs do not bring the network back (checked
    on F-MNIST: a factorized network of depth 3 at λ 1e-2..1e-1 stayed empty over 5 epochs)."""
    epochs = cfg.epochs if epochs is None else epochs
    history: list[dict] = []
    if epochs == 0:
        return history, "ok"
    optimizer, scheduler = make_optimizer(cfg, prepared, epochs)
    for epoch in range(1, epochs + 1):
        stats = train_epoch(prepared, optimizer, data, cfg.batch_size, generator, epoch)
        if stats.diverged:
            return history, "diverged"
        scheduler.step()
        if prepared.on_epoch_end:
            prepared.on_epoch_end(epoch)
        record = history_record(cfg.config_hash, stats, prepared, data, cfg.include_bias)
        history.append(record)
        if progress:
            progress(epoch, epochs, record)
        if math.isinf(record["compression_ratio"]):  # nonzero count 0
            return history, "collapsed"
    return history, "ok"


def _evaluate_point(cfg: TrialConfig, point: EvalPoint, point_id: int, data: DataBundle,
                    status: str) -> tuple[dict, list[dict]]:
    sp = sparsity_stats(point.model, cfg.include_bias)
    if status == "diverged":
        chance = 1.0 / data.num_classes
        test_loss, test_acc, train_loss, train_acc = math.nan, chance, math.nan, chance
    else:
        test_loss, test_acc = evaluate(point.model, data.eval_batches("test", EVAL_BATCH))
        train_loss, train_acc = evaluate(point.model, data.eval_batches("train", EVAL_BATCH))
    row = {
        "point": point.point, "point_id": point_id, "target_compression": point.target_compression,
        "status": status,
        "test_acc": test_acc, "train_acc": train_acc, "test_loss": test_loss, "train_loss": train_loss,
        "total_params": sp.total, "nonzero_params": sp.nonzero,
        "compression_ratio": sp.compression_ratio, "sparsity": sp.sparsity, "l2_norm": sp.l2_norm,
    }
    layers = [
        {"config_hash": cfg.config_hash, "point_id": point_id, "layer": c.layer, "layer_index": i,
         "total_params": c.total, "nonzero_params": c.nonzero}
        for i, c in enumerate(sp.layers)
    ]
    return row, layers


def _device_text(device: torch.device, prepared: Prepared) -> str:
    """The row's device, with what the method adds (e.g. that it took a compiled optimizer step)."""
    note = prepared.device_note() if prepared.device_note else None
    return f"{device} ({note})" if note else str(device)


def _prepared(cfg: TrialConfig, method: Method, context: TrialContext, init_gen: torch.Generator) -> Prepared:
    """The network built, started where the method starts it, and set up for training (on the device)."""
    data, device = context.data, context.device
    model = build_model(cfg.model, data.num_classes, data.input_shape).to(device)
    state = method.start(cfg, context) if method.start else None
    if state is not None:
        model.load_state_dict(state)
    prepared = method.prepare(cfg, model, init_gen, data)
    prepared.model.to(device)
    return prepared


def trial_context(data: DataBundle, device: torch.device, checkpoints=None) -> TrialContext:
    """What the lifecycle hooks of a trial on `data` and `device` get (suite.methods.base.TrialContext)."""
    def train_network(cfg: TrialConfig) -> tuple[nn.Module, str]:
        """`cfg`'s network trained exactly as its own trial trains it (same seeded init and data order)."""
        method = METHODS.get(cfg.method)
        init_gen, data_gen = _seeded_generators(cfg.seed)
        torch.manual_seed(cfg.seed)
        prepared = _prepared(cfg, method, context, init_gen)
        _, status = train(cfg, prepared, data, data_gen, epochs=prepared.epochs)
        return prepared.model, status

    context = TrialContext(data=data, device=device, checkpoints=checkpoints, train_network=train_network)
    return context


def initial_network(cfg: TrialConfig, data: DataBundle, device: torch.device | None = None) -> nn.Module:
    """`cfg`'s network as its trial hands it to training (same seeded init; a pruning-at-init method's mask
    applied), without training it: what experiments/mask_paths.py reads the masks from. A method whose
    `start` hook trains another network first trains that network here too."""
    device = device or torch.device("cpu")
    init_gen, _ = _seeded_generators(cfg.seed)
    torch.manual_seed(cfg.seed)
    return _prepared(cfg, METHODS.get(cfg.method), trial_context(data.to(device), device), init_gen).model


def run_trial(cfg: TrialConfig, data_root: str | None = None, device: str | None = None,
              progress: ProgressFn | None = None, download: bool = True,
              checkpoints=None) -> TrialResult:
    """Train one network with one method and evaluate its sparsity points.

    data_root, device and `checkpoints` (suite.results.checkpoints: the cache trials share trained
    networks through, handed to the method's hooks) do not change the result, so they are not in cfg."""
    # Before any data is loaded: a config the registries reject never trains.
    validate_trial(cfg)
    start = time.perf_counter()
    device = resolve_device(device)
    method = METHODS.get(cfg.method)
    init_gen, data_gen = _seeded_generators(cfg.seed)
    torch.manual_seed(cfg.seed)  # anything drawing from the global RNG (e.g. dropout)
    data = load_dataset(cfg.dataset, data_root, download=download)
    require_data(cfg.data_fingerprint, data, f"trial {cfg.config_hash}")
    data = data.to(device)
    context = trial_context(data, device, checkpoints)
    prepared = _prepared(cfg, method, context, init_gen)

    def train_it() -> tuple[list[dict], str]:
        return train(cfg, prepared, data, data_gen, progress, epochs=prepared.epochs)

    history, status = (method.around_training(cfg, prepared, context, train_it) if method.around_training
                       else train_it())
    diverged = status == "diverged"
    final = prepared.finalize() if prepared.finalize else prepared.model
    final.eval()

    # An empty network has no post-hoc ladder: every point would be the same one.
    points = [EvalPoint("final", final, cfg.compressions[0] if cfg.compressions else None)] if status != "ok" \
        else method.evaluate_points(cfg, final)
    misalign = prepared.misalignment() if prepared.misalignment and not diverged else None
    common = {
        "sweep": cfg.sweep, "method": cfg.method, "model": cfg.model, "dataset": cfg.dataset,
        "depth": cfg.depth if cfg.depth is not None else method.fixed_depth,
        "lam": cfg.lam, "lr": cfg.lr, "seed": cfg.seed, "epochs": cfg.epochs,
        "misalignment": misalign, "config_hash": cfg.config_hash,
        "config_json": json.dumps(cfg.to_dict(), sort_keys=True, default=list),
        "device": _device_text(device, prepared),
        "data_fingerprint": data.identity.fingerprint, "data_sources": data.identity.sources_json(), **environment(),
    }
    rows, layers = [], []
    for point_id, point in enumerate(points):
        row, point_layers = _evaluate_point(cfg, point, point_id, data, status)
        rows.append({**common, **row})
        layers.extend(point_layers)
    finished = datetime.now(timezone.utc)
    for row in rows:
        row["wall_time_s"] = time.perf_counter() - start
        row["created_at"] = finished
    return TrialResult(rows=rows, layers=layers, history=history)
