"""Time per training epoch of DWF (D = 2, 3, 4; eager and compiled step) over dense LeNet-300-100, as ratios.

    .venv/bin/python benchmarks/speed.py --data ../shared/data [--rounds 20] [--steps 25] [--threads 1] \\
        [--batch-sizes 256,1024] [--no-compiled] [--device cpu]

Every variant runs in one process on the same data. After one warm-up epoch
each (allocators, caches and, compiled, the compilation), the variants take
turns in rounds of `--steps` training steps each (dense, D=2, ..., then the
next round), with the step `suite.train.train_epoch` runs, so a change in the
machine's load hits all of them within a fraction of a second of each other.
Each round is timed twice: CPU seconds of this process, which other programs
on a shared machine do not inflate by preempting it, and wall seconds. CPU
seconds still move with the load through the shared memory bandwidth, and
DWF's more than dense's: its extra work is elementwise passes over tensors
larger than the cache, bound by memory, where dense's matrix products are
bound by arithmetic.

The table gives, per variant, the median time per epoch (median time per
step times the steps of an epoch) and the median over rounds of its ratio to
dense's time in the same round, with the quartiles of those ratios (their
spread is the load's doing). "compiled" trains with the fused factor step
(suite/core/dwf/step.py, compiled: the default where a compiler is found),
"eager" with the fallback ($BENCH_COMPILE=0); the compiled step's compile
time (warm-up epoch minus a timed epoch) is printed with the epochs it takes
to pay back. Also printed: the
per-epoch history's cost (test evaluation, sparsity statistics,
misalignment), as a share of a training epoch.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import torch

from suite.config import TrialConfig
from suite.core.data.registry import load_dataset
from suite.core.dwf.compile import ENV, compiler_missing
from suite.builtins import METHODS
from suite.core.models.registry import build_model
from suite.train import EpochStats, history_record, make_optimizer, resolve_device, train_epoch, train_step

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
                      lam=None if method == "dense" else 1e-4, epochs=2)
    model = build_model(args.model, data.num_classes, data.input_shape).to(device)
    prepared = METHODS.get(method).prepare(cfg, model, torch.Generator().manual_seed(0), data)
    prepared.model.to(device)
    os.environ[ENV] = "1" if compiled else "0"  # read by make_optimizer
    optimizer, _ = make_optimizer(cfg, prepared, cfg.epochs)
    return cfg, prepared, optimizer, torch.Generator().manual_seed(1)


def _endless_batches(data, batch_size: int, generator: torch.Generator):
    while True:  # epoch after epoch, each in a fresh order
        yield from data.train_batches(batch_size, generator)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _name(v) -> str:
    return "dense" if v[1] == "dense" else f"dwf D={v[2]} {v[3]}"


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data root (default: $BENCH_DATA)")
    parser.add_argument("--dataset", default="fmnist")
    parser.add_argument("--model", default="lenet300")
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds (after one warm-up epoch per variant)")
    parser.add_argument("--steps", type=int, default=25, help="training steps per variant and round")
    parser.add_argument("--batch-sizes", type=_int_list, default=[256, 1024], help="comma-separated, e.g. 256,1024")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-compiled", action="store_true", help="eager variants only (no C++ compiler needed)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    for flag in ("rounds", "steps"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag} must be an integer >= 1, got {getattr(args, flag)}")

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

    warm_up_s = {}
    for v in variants:
        _, prepared, optimizer, gen = setups[v]
        warm_up_s[v] = train_epoch(prepared, optimizer, data, v[0], gen, 0).seconds
    batches = {v: _endless_batches(data, v[0], setups[v][3]) for v in variants}
    rounds: dict = {v: [] for v in variants}  # (cpu s, wall s) per step, one pair per round
    for _ in range(args.rounds):
        for v in variants:
            _, prepared, optimizer, _ = setups[v]
            prepared.model.train()
            _sync(device)
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(args.steps):
                train_step(prepared, optimizer, *next(batches[v]))
            _sync(device)  # on a GPU the steps run asynchronously: time them to their end
            rounds[v].append(((time.process_time() - cpu) / args.steps, (time.perf_counter() - wall) / args.steps))

    print(f"{args.model} on {args.dataset}, device {device}, {args.threads} thread(s), {args.rounds} rounds of "
          f"{args.steps} steps per variant after 1 warm-up epoch, variants interleaved in one process")
    print(f"{'batch':>5} {'variant':<20} {'cpu s/epoch':>11} {'ratio':>6} {'q1-q3':>10} {'wall s/epoch':>12}"
          f" {'ratio':>6} {'compile s':>10} {'pays back after':>16}")
    epoch_cpu = {}
    for b in args.batch_sizes:
        steps_per_epoch = math.ceil(data.n_train / b)
        dense = rounds[(b, "dense", None, "eager")]

        def per_epoch(v, i):
            return statistics.median(r[i] for r in rounds[v]) * steps_per_epoch

        for v in [u for u in variants if u[0] == b]:
            epoch_cpu[v], wall = per_epoch(v, 0), per_epoch(v, 1)
            cpu_ratios = [r[0] / d[0] for r, d in zip(rounds[v], dense)]
            wall_ratio = statistics.median(r[1] / d[1] for r, d in zip(rounds[v], dense))
            q1, q3 = _quartiles(cpu_ratios)
            extra = ""
            if v[3] == "compiled":
                # Compilation runs partly in worker processes: wall time.
                compile_s = warm_up_s[v] - wall
                saved = per_epoch((b, "dwf", v[2], "eager"), 1) - wall
                if compile_s < 0.5:
                    payback = "cached"  # Inductor's disk cache from an earlier run
                else:
                    payback = f"{compile_s / saved:.0f} epochs" if saved > 0 else "never"
                extra = f"{compile_s:>10.1f} {payback:>16}"
            print(f"{b:>5} {_name(v):<20} {epoch_cpu[v]:>11.3f} {statistics.median(cpu_ratios):>6.2f} "
                  f"{q1:>4.2f}-{q3:<4.2f} {wall:>12.3f} {wall_ratio:>6.2f} {extra}")

    b = args.batch_sizes[0]
    print(f"\nper-epoch history record (test evaluation + sparsity + misalignment), CPU time, batch {b}:")
    for v in [u for u in variants if u[0] == b]:
        cfg, prepared, _, _ = setups[v]
        start = time.process_time()
        history_record(cfg.config_hash, EpochStats(1, 0.0, 0.0, 0.0, False, 0.0), prepared, data, cfg.include_bias)
        print(f"  {_name(v):<20} {(time.process_time() - start) / epoch_cpu[v]:.1%} of a training epoch")


if __name__ == "__main__":
    main()
