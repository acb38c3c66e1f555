"""Time per training epoch of DWF (D = 2, 3, 4; eager and compiled) over dense LeNet-300-100, as ratios.

    .venv/bin/python benchmarks/speed.py --data ../shared/data [--epochs 3] [--threads 1] \\
        [--batch-sizes 256,1024] [--no-compiled] [--device cpu]

Every variant runs in one process on the same data, interleaved epoch by epoch
(dense, D=2, ..., then the next epoch), so a change in machine load hits all
of them alike. Each epoch (training only: forward, backward, SGD step) is
timed twice: CPU seconds of this process, which other programs on a shared
machine barely change at 1 thread, and wall seconds. The table gives the
medians and their ratios to dense at the same batch size ("best": the fastest
epoch's CPU time over dense's fastest, the least disturbed pair). "compiled"
forms the DWF products with suite/core/dwf_compile.py; its compile time (first
epoch minus the median) is printed with the epochs it takes to pay back.
Also printed: the per-epoch history's cost (test evaluation, sparsity
statistics, misalignment), as a share of a training epoch.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from suite.config import TrialConfig
from suite.core.data import load_dataset
from suite.core.dwf_compile import compile_products, compiler_missing
from suite.methods.base import METHODS
from suite.core.models import build_model
from suite.train import EpochStats, _history_record, _make_optimizer, resolve_device, train_epoch

DEPTHS = (2, 3, 4)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers, e.g. 256,1024")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: batch sizes must be integers >= 1")
    return values


def _setup(args, data, device, method: str, depth: int | None, compiled: bool):
    cfg = TrialConfig(model=args.model, dataset=args.dataset, method=method, depth=depth,
                      lam=None if method == "dense" else 1e-4, epochs=args.epochs + 1)
    model = build_model(args.model, data.num_classes, data.input_shape).to(device)
    prepared = METHODS.get(method).prepare(cfg, model, torch.Generator().manual_seed(0), data)
    prepared.model.to(device)
    if compiled:
        compile_products(prepared.model)
    optimizer, _ = _make_optimizer(cfg, prepared, cfg.epochs)
    return cfg, prepared, optimizer, torch.Generator().manual_seed(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data root (default: $BENCH_DATA)")
    parser.add_argument("--dataset", default="fmnist")
    parser.add_argument("--model", default="lenet300")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per variant (after one warm-up)")
    parser.add_argument("--batch-sizes", type=_int_list, default=[256, 1024], help="comma-separated, e.g. 256,1024")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-compiled", action="store_true", help="eager variants only (no C++ compiler needed)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    data = load_dataset(args.dataset, args.data, download=False).to(device)
    modes = ["eager"]
    if not args.no_compiled:
        missing = compiler_missing(device)
        if missing:
            print(f"compiled variants skipped: {missing}")
        else:
            modes.append("compiled")
    variants = [(b, "dense", None, "eager") for b in args.batch_sizes]
    variants += [(b, "dwf", d, mode) for b in args.batch_sizes for mode in modes for d in DEPTHS]
    setups = {v: _setup(args, data, device, v[1], v[2], v[3] == "compiled") for v in variants}

    times: dict = {v: [] for v in variants}  # (cpu s, wall s) per timed epoch
    first: dict = {}
    history_s: dict = {v: [] for v in variants if v[0] == args.batch_sizes[0]}
    for epoch in range(args.epochs + 1):
        for v in variants:
            cfg, prepared, optimizer, gen = setups[v]
            cpu = time.process_time()
            stats = train_epoch(prepared, optimizer, data, v[0], gen, epoch)
            cpu = time.process_time() - cpu
            if epoch == 0:  # warm-up: allocators, caches and, compiled, the compilation
                first[v] = stats.seconds
                continue
            times[v].append((cpu, stats.seconds))
            if v in history_s:
                start = time.process_time()
                _history_record(cfg.config_hash, EpochStats(epoch, 0.0, 0.0, 0.0, False, stats.seconds),
                                prepared, data, cfg.include_bias)
                history_s[v].append((time.process_time() - start) / cpu)

    print(f"{args.model} on {args.dataset}, device {device}, {args.threads} thread(s), "
          f"median of {args.epochs} epochs after 1 warm-up, variants interleaved in one process")
    print(f"{'batch':>5} {'variant':<20} {'cpu s/epoch':>11} {'ratio':>6} {'best':>5} {'wall s/epoch':>12} {'ratio':>6}"
          f" {'compile s':>10} {'pays back after':>16}")
    for b in args.batch_sizes:
        def med(v, i):
            return statistics.median(t[i] for t in times[v])
        dense = [med((b, "dense", None, "eager"), i) for i in (0, 1)]
        dense_best = min(t[0] for t in times[(b, "dense", None, "eager")])
        for v in [u for u in variants if u[0] == b]:
            cpu, wall = med(v, 0), med(v, 1)
            name = "dense" if v[1] == "dense" else f"dwf D={v[2]} {v[3]}"
            extra = ""
            if v[3] == "compiled":
                # Compilation runs partly in worker processes: wall time.
                compile_s = first[v] - wall
                saved = med((b, "dwf", v[2], "eager"), 1) - wall
                payback = f"{compile_s / saved:.0f} epochs" if saved > 0 else "never"
                extra = f"{compile_s:>10.1f} {payback:>16}"
            # best: fastest epoch over dense's fastest, the least disturbed pair.
            best = min(t[0] for t in times[v]) / dense_best
            print(f"{b:>5} {name:<20} {cpu:>11.3f} {cpu / dense[0]:>6.2f} {best:>5.2f} {wall:>12.3f} {wall / dense[1]:>6.2f} {extra}")
    b = args.batch_sizes[0]
    print(f"\nper-epoch history record (test evaluation + sparsity + misalignment), CPU time, batch {b}:")
    for v, shares in history_s.items():
        name = "dense" if v[1] == "dense" else f"dwf D={v[2]} {v[3]}"
        print(f"  {name:<20} {statistics.median(shares):.1%} of a training epoch")


if __name__ == "__main__":
    main()
