"""Replay of the ε-searches against a store turned into an oracle (issue 25): no training.

    .venv/bin/python benchmarks/search_replay.py --store results/reference/lenet300_fmnist

The store's rows become an oracle (`replay_oracle.py`: per seed and group, accuracy and CR interpolated
between its measured points along the search axis). Against it run (a) the spec's full grid, (b) today's
bisection (`suite.run.search.bisect.plan.AdaptivePlan`, driven through its own functions with oracle rows in place of
training) and (c) the shared search (`suite.run.search.shared`). Printed: trials used by each, and every Table 1
(ε) and Table 2 (level) cell of each method next to the oracle's true cell (the same rules on a fine axis).

Within tolerance: ε cell, CR within a factor 1 + tolerance of the true cell's (or both none); level cell,
mean accuracy within max(level_acc_tol, the oracle's own spread over the measured rule's band [L, L (1 +
tolerance)]) of the true cell (or both none). The last line checks the issue's target: every cell of the
shared search within tolerance, with at most 45% of today's trials.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from replay_floor import floor  # noqa: E402
from replay_oracle import Oracle, cells_of, group_key, level_band, load_store, synthetic_rows  # noqa: E402

from suite.run.search.bisect.cells import levels_of  # noqa: E402

TARGET_SHARE = 0.45


def oracle_rows(oracle: Oracle, cfg) -> list[dict]:
    """The rows a trial of `cfg` would store, answered by the oracle."""
    base = {"method": cfg.method, "model": cfg.model, "dataset": cfg.dataset, "depth": cfg.depth, "lam": cfg.lam,
            "lr": cfg.lr, "seed": cfg.seed, "epochs": cfg.epochs, "point": "final", "point_id": 0,
            "total_params": oracle.total_params, "config_hash": cfg.config_hash, "config_json": None}
    if cfg.method == "dense":
        return [{**base, "target_compression": None, "status": "ok", "test_acc": oracle.dense[cfg.seed],
                 "compression_ratio": 1.0, "sparsity": 0.0}]
    g = oracle.groups[group_key(cfg.method, cfg.depth)]
    x = cfg.lam if g.axis == "lam" else cfg.compressions[0]
    acc, cr, status = g.answer(x, cfg.seed)
    return [{**base, "target_compression": None if g.axis == "lam" else x, "status": status, "test_acc": acc,
             "compression_ratio": cr, "sparsity": 1.0 - 1.0 / cr}]


def full_point_cells(oracle: Oracle, key: str, xs, eps, levels) -> dict:
    """The report's cells over full (every seed) points at the axis values xs."""
    import numpy as np

    xs = np.array(sorted(set(xs)), float)
    if not len(xs):
        return {**{("eps", e): None for e in eps}, **{("level", c): None for c in levels}}
    return cells_of(*oracle.groups[key].medians(xs), oracle.dense_median(), eps, levels, oracle.total_params)


def run_today(trials, settings, oracle):
    from suite.run.search.bisect.plan import AdaptivePlan
    from suite.run.search.driving import run_serial

    plan = AdaptivePlan(trials, settings)
    run_serial(plan, lambda cfg: oracle_rows(oracle, cfg))
    cells = {g.key: full_point_cells(oracle, g.key, [x for x in g.results if g.judged(x)], settings.eps,
                                     levels_of(g, settings.levels))
             for g in plan.groups}
    return plan, len(plan.used), cells


def run_shared(plan, settings, rules, oracle):
    from suite.run.search.shared import GroupState, Result, SharedSearch, run_serial

    seeds = tuple(b.seed for b in plan.groups[0].bases)
    groups = [GroupState(g.key, g.axis, g.lo, g.hi, seeds, oracle.total_params) for g in plan.groups]
    search = SharedSearch(groups, seeds, settings.eps, settings.levels, rules)

    def train(req):
        if req.group == "dense":
            return Result(oracle.dense[req.seed], 1.0)
        acc, cr, status = oracle.groups[req.group].answer(req.x, req.seed)
        return Result(acc, cr, status)

    run_serial(search, train)
    cells = {}
    for cell in search.cells:
        key = ("eps", cell.value) if cell.kind == "eps" else ("level", cell.value)
        cells.setdefault(cell.group, {})[key] = (cell.result, cell)
    return search, len(search.used), cells


def within(kind: str, got, true, allowed: float, tol: float) -> bool:
    if got is None or true is None:
        return got is None and true is None
    if kind == "eps":
        return abs(math.log(got / true)) <= math.log1p(tol) + 1e-9
    return abs(got - true) <= allowed + 1e-9


def fmt(kind: str, v) -> str:
    if v is None:
        return "–"
    return f"CR {v:.4g}" if kind == "eps" else f"{100 * v:.2f}%"


def compare(oracle, plan, settings, rules, grid_cells, today_cells, shared_cells, measured) -> tuple[int, int, int]:
    """Print every cell; returns (cells, today's within tolerance, shared within tolerance). `measured`: per
    group, the configurations both searches measured on every seed (the band of a level includes them)."""
    n = ok_today = ok_shared = 0
    print(f"{'group':<10} {'cell':<9} {'true':>11} {'grid':>11} {'today':>11} {'shared':>11}  shared: how")
    for g in plan.groups:
        levels = levels_of(g, settings.levels)
        true = oracle.true_cells(g.key, g.lo, g.hi, settings.eps, levels)
        for key, tv in true.items():
            kind, value = key
            sv, cell = shared_cells[g.key][key]
            allowed = rules.level_acc_tol
            if kind == "level" and tv is not None:
                lo_b, hi_b = level_band(oracle, g.key, value, settings.tolerance, measured[g.key])
                if not math.isnan(lo_b):
                    allowed = max(allowed, abs(lo_b - tv), abs(hi_b - tv))
            t_ok, s_ok = (within(kind, v, tv, allowed, settings.tolerance) for v in (today_cells[g.key][key], sv))
            n, ok_today, ok_shared = n + 1, ok_today + t_ok, ok_shared + s_ok
            how = cell.status + (f" ±[{100 * cell.interval[0]:.2f}, {100 * cell.interval[1]:.2f}]"
                                 if cell.interval else "")
            name = f"ε={value:g}" if kind == "eps" else f"CR≥{value:g}"
            print(f"{g.key:<10} {name:<9} {fmt(kind, tv):>11} {fmt(kind, grid_cells[g.key][key]):>11} "
                  f"{fmt(kind, today_cells[g.key][key]):>11}{' ' if t_ok else '*'}{fmt(kind, sv):>11}"
                  f"{' ' if s_ok else '*'} {how}")
    return n, ok_today, ok_shared


def per_group(plan, trials, search, floors: dict[str, int]) -> None:
    """Trials per group: grid, today's bisection, shared search (of them on one seed only), the floor."""
    today: dict[str, int] = {}
    for h in plan.used:
        key = plan.where[h][0].key if h in plan.where else "dense"
        today[key] = today.get(key, 0) + 1
    print(f"\n{'group':<10} {'grid':>5} {'today':>6} {'shared':>7} {'one-seed':>9} {'floor':>6}")
    for g in plan.groups:
        grid = sum(t.method == g.bases[0].method and t.depth == g.bases[0].depth for t in trials)
        mine = search.groups[g.key]
        used = sum(len(seeds) for seeds in mine.results.values())
        single = sum(len(seeds) == 1 for seeds in mine.results.values())
        print(f"{g.key:<10} {grid:>5} {today.get(g.key, 0):>6} {used:>7} {single:>9} {floors[g.key]:>6}")


def paced_hours(rows, search, floors: dict[str, int]) -> str | None:
    """The shared search's and the floor's trials in hours of summed trial time at the store's own pace (each
    group's mean wall time per stored trial; dense's for dense); None without wall times (synthetic curves)."""
    if "wall_time_s" not in rows:
        return None
    trials = rows.drop_duplicates("config_hash")
    pace = {group_key(m, d): t.wall_time_s.mean() for (m, d), t in trials.groupby(["method", "depth"], dropna=False)}
    used = {key: sum(len(seeds) for seeds in g.results.values()) for key, g in search.groups.items()}
    used["dense"] = len(search.dense)
    shared = sum(n * pace[key] for key, n in used.items()) / 3600
    least = sum(n * pace[key] for key, n in floors.items()) / 3600
    return f"at the store's pace (its mean trial time per group): shared search {shared:.2f} h, floor {least:.2f} h"


def level_rules_compared(plan, settings, rules, oracle, cells) -> None:
    """The shared search again under the other level rule: every level cell of both, side by side."""
    other = "measured" if rules.level_rule == "interpolated" else "interpolated"
    search, n, theirs = run_shared(plan, settings, dataclasses.replace(rules, level_rule=other), oracle)
    print(f"\nlevel cells, --level-rule {rules.level_rule} vs {other} ({n} trials under {other}):")
    worst = 0.0
    for key in cells:
        for (kind, value), (mine, cell) in cells[key].items():
            if kind != "level":
                continue
            other_value = theirs[key][(kind, value)][0]
            diff = None if mine is None or other_value is None else 100 * (mine - other_value)
            worst = max(worst, abs(diff or 0.0))
            print(f"  {key:<10} CR≥{value:<6g} {fmt(kind, mine):>8} ({cell.status:<9}) {fmt(kind, other_value):>8}"
                  f"  diff {'–' if diff is None else f'{diff:+.2f}'} points")
    print(f"  largest difference: {worst:.2f} points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default=str(REPO / "results" / "reference" / "lenet300_fmnist"))
    parser.add_argument("--spec", default="lenet300_fmnist")
    parser.add_argument("--methods", default="dense,dwf,gmp,snip,synflow,random")
    parser.add_argument("--level-rule", default="interpolated", choices=["interpolated", "measured"])
    parser.add_argument("--synthetic", action="store_true",
                        help="an oracle from known curves (replay_oracle.synthetic_rows) instead of --store")
    parser.add_argument("--compare-level-rules", action="store_true",
                        help="also run the other level rule and print both, cell by cell")
    parser.add_argument("--rule", action="append", default=[], metavar="FIELD=VALUE",
                        help="one of the shared search's Rules constants set otherwise, e.g. noise_k=2 (repeatable)")
    args = parser.parse_args()

    from suite.run.search.bisect.cells import axis_of
    from suite.run.search.shared import Rules
    from suite.sweep.expansion import expand
    from suite.sweep.loading import load_spec

    spec = load_spec(args.spec)
    methods = args.methods.split(",")
    trials = [t for t in expand(spec) if t.method in methods]
    settings = spec.adaptive_settings
    rows = synthetic_rows(trials) if args.synthetic else load_store(args.store)
    oracle = Oracle(rows, {m: axis_of(m) for m in methods if axis_of(m)})
    rules = Rules(tolerance=settings.tolerance, level_rule=args.level_rule)
    for item in args.rule:
        name, _, value = item.partition("=")
        if name not in {f.name for f in dataclasses.fields(Rules)} or name in ("tolerance", "level_rule"):
            parser.error(f"--rule {item}: not one of the Rules constants {[f.name for f in dataclasses.fields(Rules)]}"
                         " (tolerance comes from the spec, level_rule from --level-rule)")
        rules = dataclasses.replace(rules, **{name: type(getattr(rules, name))(float(value))})
    plan, today_n, today_cells = run_today(trials, settings, oracle)
    grid_cells = {}
    for g in plan.groups:
        xs = sorted({t.lam if g.axis == "lam" else t.compressions[0] for t in trials
                     if t.method == g.bases[0].method and t.depth == g.bases[0].depth})
        levels = levels_of(g, settings.levels)
        grid_cells[g.key] = full_point_cells(oracle, g.key, xs, settings.eps, levels)
    search, shared_n, shared_cells = run_shared(plan, settings, rules, oracle)
    measured = {g.key: [x for x in g.results if g.judged(x)] + [p.x for p in search.groups[g.key].points() if p.full]
                for g in plan.groups}
    n, ok_today, ok_shared = compare(oracle, plan, settings, rules, grid_cells, today_cells, shared_cells, measured)
    floors = floor(oracle, plan, settings, rules.max_bracket, rules.level_rule)
    per_group(plan, trials, search, floors)
    if args.compare_level_rules:
        level_rules_compared(plan, settings, rules, oracle, shared_cells)
    source = "synthetic curves" if args.synthetic else args.store
    print(f"\n(* = outside tolerance) store {source}; dense median {100 * oracle.dense_median():.2f}%")
    print(f"trials: grid {len(trials)}, today's bisection {today_n}, shared search {shared_n} "
          f"({100 * shared_n / today_n:.0f}% of today's; one-seed points "
          f"{sum(1 for g in search.groups.values() for x in g.results if len(g.results[x]) == 1)})")
    print(f"cells within tolerance: today {ok_today}/{n}, shared {ok_shared}/{n}")
    least = sum(floors.values())
    print(f"floor (what the cells' rules force on a search that knew the oracle in advance, replay_floor.py): "
          f"{least} trials ({100 * least / today_n:.0f}% of today's); the target leaves "
          f"{math.floor(TARGET_SHARE * today_n) - least} trials above it for finding the curves")
    paced = None if args.synthetic else paced_hours(rows, search, floors)
    if paced:
        print(paced)
    met = ok_shared == n and shared_n <= TARGET_SHARE * today_n
    print(f"issue 25 target (all cells within tolerance, <= {100 * TARGET_SHARE:.0f}% of today's trials): "
          f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
