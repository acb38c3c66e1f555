"""Re-run one stored trial from its stored config and compare its test accuracy (issue 10's check).

A stored result is only worth something if it re-runs to the same number: this
takes a trial's config from the store (rows/<hash>.parquet, `config_json`),
trains it again with `run_trial` in this process (one torch thread, as a sweep
worker with one CPU per trial), and prints the stored and re-run accuracy of
every evaluated point and the largest difference in points. Exit status 1 if it
exceeds --tolerance (default 0.3 points).

With --complete, a re-run that reproduces every stored point exactly (same test
accuracy, same nonzero count) replaces the stored trial, so that a trial stored by
older code gains the points today's code evaluates (the L1/PILoT ladders stopped at
the first target at chance until 47e76f0). Anything short of exact leaves the store
as it was (exit status 1).

Usage:
    python experiments/rerun_check.py results/reference/lenet300_fmnist HASH --data ../shared/data [--complete]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import torch

from suite.config import TrialConfig
from suite.results.store import write_trial
from suite.train import run_trial


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path,
                        help="a sweep folder of a store, e.g. results/reference/lenet300_fmnist")
    parser.add_argument("config_hash")
    parser.add_argument("--data", default=None, help="dataset root (default: the suite's own resolution)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tolerance", type=float, default=0.3, help="allowed difference in accuracy points")
    parser.add_argument("--complete", action="store_true",
                        help="replace the stored trial by the re-run when it reproduces every stored point exactly")
    args = parser.parse_args()

    stored = pq.read_table(args.sweep_dir / "rows" / f"{args.config_hash}.parquet").to_pylist()
    config = TrialConfig.from_dict(json.loads(stored[0]["config_json"]))
    if config.config_hash != args.config_hash:
        sys.exit(f"stored config hashes to {config.config_hash}, not {args.config_hash}: the store needs re-keying")
    torch.set_num_threads(args.threads)
    # DWF's compiled and eager steps agree up to float rounding only: re-run on the path the row says
    # it took (rows stored before the compiled step existed say just "cpu": the eager path).
    compiled = "compiled DWF step" in (stored[0].get("device") or "")
    os.environ.setdefault("BENCH_COMPILE", "1" if compiled else "0")
    print(f"re-running {args.config_hash} ({'compiled' if compiled else 'eager'} DWF step where DWF): "
          f"{config.identity()}", flush=True)
    result = run_trial(config, data_root=args.data)
    rerun = {(row["point"], row["point_id"]): row for row in result.rows}
    worst, exact = 0.0, True
    for row in stored:
        again = rerun[(row["point"], row["point_id"])]
        diff = 100 * abs(again["test_acc"] - row["test_acc"])
        worst = max(worst, diff)
        exact = exact and again["test_acc"] == row["test_acc"] and again["nonzero_params"] == row["nonzero_params"]
        print(f"  {row['point']:8s} {row['point_id']:>10}  stored {100 * row['test_acc']:.2f}%  "
              f"re-run {100 * again['test_acc']:.2f}%  CR {row['compression_ratio']:.1f} vs "
              f"{again['compression_ratio']:.1f}  |diff| {diff:.2f} points")
    print(f"largest difference: {worst:.2f} points (tolerance {args.tolerance})")
    if args.complete:
        if not exact:
            print("not replaced: the re-run does not reproduce every stored point exactly")
            return 1
        write_trial(args.sweep_dir.parent, args.sweep_dir.name, result)
        print(f"replaced: {len(stored)} stored point(s) reproduced exactly; the trial now has {len(result.rows)}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    raise SystemExit(main())
