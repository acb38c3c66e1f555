"""Time per training epoch of dense LeNet-300-100 vs. DWF with D = 2, 3, 4, as ratios to dense.

    .venv/bin/python benchmarks/speed.py --data ../shared/data [--epochs 3] [--threads 2] [--batch-size 256] [--device cpu]

Runs every variant in one process on the same data, interleaving the variants
epoch by epoch so that a change in machine load hits all of them alike, and
reports the median epoch time (training only: forward, backward, SGD step).
"""

from __future__ import annotations

import argparse
import statistics

import torch

from suite.config import TrialConfig
from suite.data import load_dataset
from suite.methods import get_method
from suite.models import build_model
from suite.train import _make_optimizer, resolve_device, train_epoch

VARIANTS = [("dense", None), ("dwf", 2), ("dwf", 3), ("dwf", 4)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data root (default: $BENCH_DATA)")
    parser.add_argument("--dataset", default="fmnist")
    parser.add_argument("--model", default="lenet300")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per variant (after one warm-up)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    data = load_dataset(args.dataset, args.data, download=False).to(device)
    setups = {}
    for method, depth in VARIANTS:
        cfg = TrialConfig(model=args.model, dataset=args.dataset, method=method, depth=depth,
                          lam=None if method == "dense" else 1e-4, epochs=args.epochs + 1)
        model = build_model(args.model, data.num_classes, data.input_shape).to(device)
        prepared = get_method(method).prepare(cfg, model, torch.Generator().manual_seed(0), data)
        prepared.model.to(device)
        optimizer, _ = _make_optimizer(cfg, prepared, cfg.epochs)
        setups[(method, depth)] = (prepared, optimizer, torch.Generator().manual_seed(1))

    times: dict = {key: [] for key in setups}
    for epoch in range(args.epochs + 1):
        for key, (prepared, optimizer, gen) in setups.items():
            seconds = train_epoch(prepared, optimizer, data, args.batch_size, gen, epoch).seconds
            if epoch > 0:  # the first epoch warms up allocators and caches
                times[key].append(seconds)

    dense = statistics.median(times[("dense", None)])
    print(f"{args.model} on {args.dataset}, batch {args.batch_size}, device {device}, {args.threads} thread(s), "
          f"median of {args.epochs} epochs")
    print(f"{'variant':<10} {'s/epoch':>9} {'ratio to dense':>15}")
    for (method, depth), values in times.items():
        name = method if depth is None else f"dwf D={depth}"
        median = statistics.median(values)
        print(f"{name:<10} {median:>9.3f} {median / dense:>15.2f}")


if __name__ == "__main__":
    main()
