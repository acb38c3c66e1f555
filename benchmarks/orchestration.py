"""How well `bench sweep` keeps the machine busy, measured on a LeNet-300-100 sweep through Ray Tune.

    .venv/bin/python benchmarks/orchestration.py                 # 8 DWF trials x 20 epochs, F-MNIST from ../shared/data
    .venv/bin/python benchmarks/orchestration.py --epochs 2 --with-baselines

Runs DWF (D = 2, 3) over a λ grid (and, with --with-baselines, dense, GMP with
3 targets and SNIP with 2) on real data, in a fresh results directory, through
`suite.run.driver.run_sweep` (local Ray, one CPU per trial), and prints what it
measured, nothing extrapolated:

* orchestration efficiency = summed trial time / (grid wall time x concurrent
  trials): the share of the trial slots spent inside `run_trial` (1.0 = no
  scheduling, actor start-up, result handling or idle tail);
* the same including Ray's start-up, and Ray's start-up time on its own;
* the overhead per trial, the per-epoch time and the trials per hour at the
  epochs run.

The default grid is 8 trials of equal length on 2 slots, so the last round
leaves no slot idle by construction; an odd count or mixed lengths add an
idle tail that is the grid's shape, not orchestration overhead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"),
                        help="data root (default: ../shared/data)")
    parser.add_argument("--dataset", default="fmnist")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--lams", type=int, default=4, help="λ values per DWF depth")
    parser.add_argument("--with-baselines", action="store_true", help="add dense, GMP (3 targets) and SNIP (2 targets)")
    parser.add_argument("--cpus-per-trial", type=float, default=1.0)
    parser.add_argument("--num-cpus", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", default=None, help="keep the results in this directory (default: a temp dir)")
    args = parser.parse_args()

    from suite.grid import logspace
    from suite.sweep.parsing import parse_spec
    from suite.run.driver import run_sweep
    from suite.run.outcome import RunOptions

    seeds = [int(s) for s in args.seeds.split(",")]
    raw = {
        "name": "orchestration_bench", "model": "lenet300", "dataset": args.dataset,
        "train": {"epochs": args.epochs, "batch_size": 256, "lr": 0.15, "momentum": 0.9, "schedule": "cosine"},
        "seeds": seeds,
        "resources": {"cpus_per_trial": args.cpus_per_trial},
        "methods": {
            "dwf": {"depth": [2, 3], "lam": logspace(1e-6, 1e-3, args.lams), "lr": {2: 0.15, 3: 0.15}},
        },
    }
    if args.with_baselines:
        raw["methods"].update({"dense": {}, "gmp": {"compression": [10, 100, 1000]},
                               "snip": {"compression": [10, 100]}})
    spec = parse_spec(raw, "benchmarks/orchestration.py")
    results = args.keep or tempfile.mkdtemp(prefix="bench-orch-")
    try:
        wall = time.perf_counter()
        outcome = run_sweep(spec, RunOptions(results=results, data=args.data, num_cpus=args.num_cpus))
        wall = time.perf_counter() - wall
    finally:
        if not args.keep:
            shutil.rmtree(results, ignore_errors=True)
    records = outcome.records
    if not records or outcome.failed:
        raise SystemExit(f"benchmark sweep did not run cleanly: {len(outcome.failed)} failed of {len(records)}")

    n, slots = len(records), outcome.concurrency
    busy = sum(r.seconds for r in records)
    grid = outcome.grid_wall_s
    efficiency = busy / (grid * slots)
    efficiency_all = busy / ((grid + outcome.ray_start_s) * slots)
    overhead = (grid * slots - busy) / n
    data_s = [r.metrics.get("data_s", 0.0) for r in records]
    per_epoch = statistics.mean((r.seconds - d) / args.epochs for r, d in zip(records, data_s))
    workers = len({r.metrics.get("pid") for r in records})

    print(f"sweep: {n} trials of lenet300/{args.dataset}, {args.epochs} epoch(s), {slots} at a time "
          f"({args.cpus_per_trial:g} CPU each, {args.num_cpus} CPUs), {workers} worker process(es)")
    print(f"Ray start-up:                    {outcome.ray_start_s:7.2f} s")
    print(f"grid wall time:                  {grid:7.2f} s   (whole run_sweep: {wall:.2f} s)")
    print(f"summed trial time:               {busy:7.2f} s   (mean {busy / n:.2f} s per trial)")
    print(f"orchestration efficiency:        {efficiency:7.3f}     = summed trial time / (grid wall x {slots})")
    print(f"  including Ray start-up:        {efficiency_all:7.3f}")
    print(f"overhead per trial:              {overhead:7.2f} s   (slot time not spent in run_trial)")
    print(f"data loading per worker:         {max(data_s):7.2f} s   (first trial of each worker; "
          f"{sum(bool(r.metrics.get('data_loaded')) for r in records)} of {n} trials loaded data)")
    print(f"per epoch (train + eval):        {per_epoch:7.2f} s")
    print(f"trials per hour (measured):      {n * 3600 / grid:7.1f}     "
          f"({args.epochs}-epoch trials on {slots} slot(s), "
          f"{n * 3600 / (grid + outcome.ray_start_s):.1f} with Ray start-up)")


if __name__ == "__main__":
    main()
