"""DWF at the same (depth, λ) under different learning rates and inits, from every sweep of a store.

Prints the Markdown tables behind README's "Fidelity" learning-rate and init comparisons: for
each (depth, λ, lr, init) trained on all of the given seeds, the test accuracy and compression
ratio per seed and their medians, and which sweep holds the trials (the reference sweep at the
spec's settings, `lenet300_fmnist_lr_rule` at App. G.2's rule, the probes' sweeps elsewhere).
"init" names the DWF-init fields a trial sets away from their defaults ("default": none).

Usage: python experiments/lr_comparison.py results/reference --point 3:1.33e-3 --point 4:1.33e-3 [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import pyarrow.parquet as pq

from suite.methods.dwf import DWFParams

COLUMNS = ["sweep", "method", "depth", "lam", "lr", "seed", "epochs", "test_acc", "compression_ratio", "status",
           "config_json"]
INIT_DEFAULTS = dict(sorted(DWFParams().values().items()))  # DWF's own init parameters


def init_text(config_json: str) -> str:
    config = json.loads(config_json)
    changed = [f"{k} {config[k]}" for k, d in INIT_DEFAULTS.items() if config.get(k, d) != d]
    return ", ".join(changed) or "default"


def dwf_rows(store: Path) -> list[dict]:
    rows = []
    for path in sorted(store.glob("*/rows/*.parquet")):
        rows += [{**r, "init": init_text(r["config_json"])} for r in pq.read_table(path, columns=COLUMNS).to_pylist()
                 if r["method"] == "dwf"]
    return rows


def table(rows: list[dict], points: list[tuple[int, float]], seeds: list[int], epochs: int) -> str:
    lines = ["| depth | λ | lr | init | sweep | test accuracy, seeds " + " / ".join(map(str, seeds))
             + " | median | CR | median CR |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for depth, lam in points:
        here = [r for r in rows if r["depth"] == depth and abs(r["lam"] / lam - 1) < 1e-6 and r["epochs"] == epochs]
        for lr, init in sorted({(r["lr"], r["init"]) for r in here}, key=lambda k: (k[0], k[1] != "default", k[1])):
            by_seed = {r["seed"]: r for r in here if (r["lr"], r["init"]) == (lr, init)}
            if not set(seeds) <= set(by_seed):
                continue
            chosen = [by_seed[s] for s in seeds]
            accs = [100 * r["test_acc"] for r in chosen]
            crs = [r["compression_ratio"] for r in chosen]
            sweeps = ", ".join(sorted({r["sweep"] for r in chosen}))
            lines.append(f"| {depth} | {lam:g} | {lr:g} | {init} | {sweeps} | " + " / ".join(f"{a:.2f}" for a in accs)
                         + f" | {statistics.median(accs):.2f} | " + " / ".join(f"{c:.0f}" for c in crs)
                         + f" | {statistics.median(crs):.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--point", action="append", required=True, help="depth:lam, e.g. 3:1.33e-3")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=75)
    args = parser.parse_args()
    points = [(int(d), float(lam)) for d, lam in (p.split(":") for p in args.point)]
    print(table(dwf_rows(args.store), points, args.seeds, args.epochs))


if __name__ == "__main__":
    main()
