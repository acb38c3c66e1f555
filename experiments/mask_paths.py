"""How much of a pruned-at-init MLP its mask leaves connected, beside the stored trial's accuracy.

At the sparse end of Table 2 a pruned network's train accuracy is within 2 points of its test accuracy:
it underfits, and what caps it is the mask's structure. This rebuilds the mask of stored trials of a
pruning-at-init method (random, SNIP, SynFlow) exactly as their trial drew it
(`suite.train.initial_network`: same seeded init, same scoring batch; nothing is trained; checked
against the nonzero weights per layer the trial stored, an error where they differ), and prints per
trial: the weights each Linear layer keeps, the units of each hidden layer with a path from the input,
how many output classes have one (a class without is a constant logit), and the stored test and train
accuracy.

Usage:
    python experiments/mask_paths.py results/reference/lenet300_mnist --data ../shared/data \
        [--methods random,snip,synflow] [--targets 50,100,400,800,1000]
MLPs only (a chain of Linear layers); GMP is left out (its mask needs the trained dense network).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from suite.config import TrialConfig
from suite.core.data.registry import load_dataset, require_data
from suite.results.store import load_table
from suite.train import initial_network

AT_INIT = ("random", "snip", "synflow")


def connectivity(model: nn.Module) -> tuple[list[int], list[int], int]:
    """Per Linear layer the kept weights; per hidden layer the units reachable from the input through kept
    weights; the output units (classes) so reachable."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    kept, live_hidden = [], []
    live = torch.ones(layers[0].in_features, dtype=torch.bool)
    for index, layer in enumerate(layers):
        mask = layer.weight.detach() != 0
        kept.append(int(mask.sum()))
        live = (mask & live[None, :]).any(dim=1)
        if index < len(layers) - 1:
            live_hidden.append(int(live.sum()))
    return kept, live_hidden, int(live.sum())


def stored_counts(layers: pd.DataFrame, config_hash: str, point_id: int) -> list[int] | None:
    """The nonzero weights per layer the trained trial stored (the sweep's layers table), None where not stored."""
    mine = layers[(layers.config_hash == config_hash) & (layers.point_id == point_id)].sort_values("layer_index")
    return [int(n) for n in mine.nonzero_params] or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path, help="a sweep folder of a store, e.g. results/reference/lenet300_mnist")
    parser.add_argument("--data", default=None, help="dataset root (default: the suite's own resolution)")
    parser.add_argument("--methods", default=",".join(AT_INIT))
    parser.add_argument("--targets", default="50,100,400,800,1000", help="target compression ratios")
    args = parser.parse_args()
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(AT_INIT))
    if unknown:
        parser.error(f"--methods: {', '.join(unknown)} not a pruning-at-init method; allowed: {', '.join(AT_INIT)}")
    targets = [float(t) for t in args.targets.split(",")]

    root, sweep = args.sweep_dir.parent, args.sweep_dir.name
    rows, layers = load_table(root, sweep, "rows"), load_table(root, sweep, "layers")
    rows = rows[rows.method.isin(methods) & rows.target_compression.isin(targets) & (rows.point == "final")]
    if rows.empty:
        raise SystemExit(f"no stored trial of {args.methods} at targets {args.targets} in {args.sweep_dir}")
    torch.set_num_threads(1)  # as a sweep worker with one CPU per trial
    data = None
    print("method   target  seed  kept per layer         live hidden units  classes  test %  train %")
    for _, row in rows.sort_values(["method", "target_compression", "seed"]).iterrows():
        cfg = TrialConfig.from_dict(json.loads(row.config_json))
        if data is None:
            data = load_dataset(cfg.dataset, args.data, download=False)
        require_data(row.data_fingerprint, data, f"trial {cfg.config_hash}")
        kept, live, classes = connectivity(initial_network(cfg, data))
        stored = stored_counts(layers, cfg.config_hash, int(row.point_id))
        if stored is not None and stored != kept:
            raise SystemExit(f"trial {cfg.config_hash}: the rebuilt mask keeps {kept} weights per layer, the stored "
                             f"trial {stored}: not the mask it trained with")
        print(f"{cfg.method:8s} {row.target_compression:6g}  {cfg.seed:4d}  {str(kept):22s} {str(live):18s} "
              f"{classes:3d}/{data.num_classes:<3d} {100 * row.test_acc:6.2f}  {100 * row.train_acc:7.2f}")


if __name__ == "__main__":
    main()
