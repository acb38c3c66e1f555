"""Adaptive ε-search against the full grid (issue 11): trial counts, wall times and Table 1 side by side.

    .venv/bin/python benchmarks/adaptive.py     # lenet300_fmnist, 3 epochs, seed 0, dense,dwf,synflow

Runs the spec's full grid and the adaptive search (`bench sweep --adaptive`)
through `suite.run.driver.run_sweep` into separate results folders under --out
(re-running resumes both: nothing finished is trained again), then prints both
trial counts, both wall times, both Table 1s and the issue's check per cell:
the grid's cell lies inside the adaptive search's final bracket, or the
adaptive cell (the report's cell over the adaptive store) is at least as
sparse and qualifies; and the adaptive run used at most a quarter of the
grid's trials. The two runs are sequential on a shared machine, so their wall
times are noisy; trial counts are exact.

DWF trains at --lr at every depth (default 0.3): in 3 epochs Table 4's 0.15,
the spec's, barely sparsifies, and an `auto` lr would spend trials on a search. Table 2 levels
are not searched here (--levels, default none), as the issue's check is on
Table 1. The same plan with a smaller --budget is replayed from the adaptive
store (its paths are prefixes of the run's, so nothing trains) and reported too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _cells(plan, eps: float) -> list[dict]:
    """The plan's cells of one ε with the report label of their method variant."""
    from suite.methods.labels import method_label

    out = []
    for cell in plan.cells:
        if cell.kind != "eps" or cell.value != eps:
            continue
        group = cell.group
        first = next(iter(next(iter(group.results.values())).values()))[0]
        label = method_label(first["method"], first["depth"], first.get("point", "final"))
        column = "lam" if group.axis == "lam" else "target"
        out.append({"label": label, "cell": cell, "column": column, "axis": group.axis})
    return out


def _with_lr(block, lr: float):
    """The block with one learning rate for every depth, in place of its lr axis or per-depth lrs."""
    names = [name for name, _ in block.axes]
    axes = [(name, (lr,) if name == "lr" else values) for name, values in block.axes]
    if "lr" not in names:
        axes.append(("lr", (lr,)))
    return dataclasses.replace(block, axes=tuple(axes), lr_by_depth=())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default="lenet300_fmnist")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--methods", default="dense,dwf,synflow")
    parser.add_argument("--lr", type=float, default=0.3, help="DWF's learning rate at every depth (default 0.3)")
    parser.add_argument("--budget", type=int, default=3, help="points per cell of the adaptive run")
    parser.add_argument("--replay-budget", type=int, default=2, help="also report this smaller budget (no training)")
    parser.add_argument("--eps", default="5,10")
    parser.add_argument("--levels", default="", help="Table 2 levels as compression ratios, e.g. 10,100 (default none)")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(REPO / "results" / "bench_adaptive"))
    parser.add_argument("--num-cpus", type=int, default=None)
    args = parser.parse_args()

    import pandas as pd

    from suite.run.search.bisect.plan import AdaptivePlan
    from suite.run.search.driving import run_serial, store_lookup, summary_lines
    from suite.sweep.adaptive_spec import AdaptiveSettings
    from suite.analysis.tables import compression_choices
    from suite.results.store import load_table
    from suite.sweep.loading import load_spec
    from suite.sweep.options import SweepOptions
    from suite.methods.dwf import DWF
    from suite.run.driver import run_sweep
    from suite.run.outcome import RunOptions

    eps = tuple(float(e) for e in args.eps.split(",") if e)
    levels = tuple(float(c) for c in args.levels.split(",") if c)
    spec = SweepOptions(epochs=args.epochs, seeds=tuple(int(s) for s in args.seeds.split(",")),
                        methods=tuple(args.methods.split(","))).apply(load_spec(args.spec))
    blocks = [_with_lr(b, args.lr) if b.name == DWF.name else b for b in spec.methods]
    settings = AdaptiveSettings(tolerance=0.1, budget=args.budget, eps=eps, levels=levels)
    spec = dataclasses.replace(spec, methods=tuple(blocks), adaptive=None)
    out = Path(args.out)
    runs = {}
    for mode in ("grid", "adaptive"):
        root = out / mode
        start = time.perf_counter()
        mine = dataclasses.replace(spec, adaptive=settings if mode == "adaptive" else None)
        outcome = run_sweep(mine, RunOptions(results=str(root), data=args.data, num_cpus=args.num_cpus))
        wall = time.perf_counter() - start
        timing = out / f"{mode}_wall.json"  # the first, complete run's wall time survives a resume
        if outcome.records and not outcome.interrupted:
            previous = json.loads(timing.read_text()) if timing.exists() else {"wall_s": 0.0, "trained": 0}
            timing.write_text(json.dumps({"wall_s": previous["wall_s"] + wall,
                                          "trained": previous["trained"] + len(outcome.records)}))
        runs[mode] = {"outcome": outcome, "root": root,
                      "wall": json.loads(timing.read_text())["wall_s"] if timing.exists() else wall}
        print(f"{mode}: {outcome.total} trial(s), {len(outcome.records)} trained now, wall {runs[mode]['wall']:.0f}s "
              f"(summed over runs)", flush=True)
        if not outcome.ok:
            raise SystemExit(f"{mode} run did not finish cleanly: {len(outcome.failed)} failed, "
                             f"interrupted={outcome.interrupted}")

    plan = runs["adaptive"]["outcome"].adaptive
    grid_n, adaptive_n = runs["grid"]["outcome"].total, len(plan.used)
    grid_rows, adaptive_rows = (load_table(runs[m]["root"], spec.name) for m in ("grid", "adaptive"))
    # The Table 1 cells each store's rows give (one section: the spec's), by method label.
    grid_table = {row.label: row for row in compression_choices(grid_rows, eps)}
    adaptive_table = {row.label: row for row in compression_choices(adaptive_rows, eps)}
    print()
    for line in summary_lines(plan):
        print(line)
    print(f"\nDense: grid {100 * grid_table['Dense'].dense_acc:.2f}%, "
          f"adaptive {100 * adaptive_table['Dense'].dense_acc:.2f}%")
    records, all_ok = [], True
    for i, e in enumerate(eps):
        for c in _cells(plan, e):
            col, cell = c["column"], c["cell"]
            g, a = grid_table[c["label"]].cells[i], adaptive_table[c["label"]].cells[i]
            g_x, g_cr = _or_nan(g.axis_value(c["axis"])), g.compression_ratio
            a_x, a_cr = _or_nan(a.axis_value(c["axis"])), a.compression_ratio
            lower = cell.bracket[0] if cell.bracket[0] is not None else cell.group.lo
            upper = cell.bracket[1] if cell.bracket[1] is not None else cell.group.hi
            inside = pd.notna(g_x) and lower * (1 - 1e-9) <= g_x <= upper * (1 + 1e-9)
            sparser = pd.notna(a_cr) and (pd.isna(g_cr) or a_cr >= g_cr)
            ok = bool(inside or sparser or (pd.isna(g_x) and pd.isna(a_x)))
            all_ok &= ok
            records.append({"method": c["label"], "ε": e, "grid cell": f"{col} {g_x:.3g} CR {g_cr:.4g}",
                            "adaptive cell": f"{col} {a_x:.3g} CR {a_cr:.4g}",
                            "bracket": f"[{lower:.3g}, {upper:.3g}]", "status": cell.status,
                            "check": "ok" if ok else "FAIL"})
    print(pd.DataFrame(records).to_string(index=False))

    # The same plan at a smaller budget, replayed from the adaptive store (paths are prefixes: nothing trains).
    small = AdaptivePlan([c for c in _grid_trials(spec)], dataclasses.replace(settings, budget=args.replay_budget))
    trained = run_serial(small, lambda cfg: None, lookup=store_lookup(str(runs["adaptive"]["root"]), spec.name))
    quarter = adaptive_n <= grid_n / 4
    print(f"\ntrials: grid {grid_n}, adaptive {adaptive_n} (budget {args.budget}; {100 * adaptive_n / grid_n:.0f}%"
          f" of the grid; at most a quarter: {'yes' if quarter else 'NO'}); budget {args.replay_budget} replayed: "
          f"{len(small.used)} ({100 * len(small.used) / grid_n:.0f}%)"
          f"{' + ' + str(trained) + ' untrained' if trained else ''}")
    print(f"wall: grid {runs['grid']['wall']:.0f}s, adaptive {runs['adaptive']['wall']:.0f}s "
          f"(ratio {runs['grid']['wall'] / max(runs['adaptive']['wall'], 1e-9):.1f}x; sequential runs on a shared "
          f"machine: noisy)")
    print(f"check (grid cell inside the final bracket, or adaptive cell at least as sparse): "
          f"{'all cells ok' if all_ok else 'SOME CELLS FAIL'}")


def _grid_trials(spec):
    from suite.sweep.expansion import expand

    return expand(spec)


if __name__ == "__main__":
    main()
