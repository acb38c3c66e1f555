"""Move (or copy) a sweep's stored trials of one method and learning rate into another sweep of the same store.

Why: the report of a sweep reads every row under it, and Table 1 takes the sparsest
qualifying configuration of a method label. When the spec's learning rate of a method
changes, the trials at the old learning rate would compete with the new ones cell by
cell, i.e. the lr would be chosen per cell on the test set. Moving them to a sweep of
their own keeps them (and their report) without mixing them into the spec's tables.

A trial is its rows, history and layers files (one per config hash); the rows' `sweep`
column is set to the destination, nothing else in a file changes and no hash moves.
A destination file that already exists is an error (nothing is overwritten).
`--copy` keeps the source's files: e.g. the dense trials, so that the destination's
report has its own dense reference for Table 1's ε thresholds.

`--where FIELD=VALUE` (repeatable) narrows the selection to trials whose stored config has that
value (a field the config lacks reads as its default), e.g. `--where omega_max=product`.
Every destination file is checked before anything is written, so a trial is never left split
between two sweeps.

Usage: python experiments/move_trials.py STORE FROM_SWEEP TO_SWEEP --method dwf --lr 0.4 --lr 0.5
       [--where omega_max=product] [--copy] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from suite.config import ConfigError, TrialConfig, field_info
from suite.results.layout import TABLE_NAMES, check_sweep_name, table_path


def selected_hashes(store: Path, sweep: str, method: str, lrs: set[float], where: dict[str, str]) -> list[str]:
    chosen = []
    for path in sorted((store / sweep / "rows").glob("*.parquet")):
        rows = pq.read_table(path, columns=["method", "lr", "config_json"]).to_pylist()
        if not rows or not all(r["method"] == method and r["lr"] in lrs for r in rows):
            continue
        # Only --where reads the config: without it, a config this version cannot read still moves.
        config = TrialConfig.from_dict(json.loads(rows[0]["config_json"])) if where else None
        if all(str(getattr(config, name)) == value for name, value in where.items()):
            chosen.append(path.stem)
    return chosen


def parse_where(items: list[str]) -> dict[str, str]:
    where = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--where {item!r}: allowed: FIELD=VALUE, e.g. omega_max=product")
        try:
            field_info(name)
        except ConfigError as exc:  # names the fields there are
            raise SystemExit(f"--where {item!r}: {exc}") from None
        where[name] = value
    return where


def occupied(store: Path, target: str, hashes: list[str]) -> list[Path]:
    paths = (store / table_path(target, table, h) for h in hashes for table in TABLE_NAMES)
    return [path for path in paths if path.exists()]


def move_trial(store: Path, source: str, target: str, config_hash: str, dry_run: bool, copy: bool = False) -> None:
    for table in TABLE_NAMES:
        old = store / table_path(source, table, config_hash)
        if not old.exists():
            continue
        new = store / table_path(target, table, config_hash)
        if dry_run:
            continue
        data = pq.read_table(old)
        if "sweep" in data.column_names:
            data = data.set_column(data.column_names.index("sweep"), "sweep", pa.array([target] * len(data), pa.string()))
        new.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(data, new)
        if not copy:
            old.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--method", required=True)
    parser.add_argument("--lr", type=float, action="append", required=True)
    parser.add_argument("--where", action="append", default=[], help="FIELD=VALUE the stored config must have")
    parser.add_argument("--copy", action="store_true", help="keep the trials in FROM_SWEEP too")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    source, target = check_sweep_name(args.source, "FROM_SWEEP"), check_sweep_name(args.target, "TO_SWEEP")
    hashes = selected_hashes(args.store, source, args.method, set(args.lr), parse_where(args.where))
    taken = occupied(args.store, target, hashes)
    if taken:  # checked for every trial first: nothing is written, so no trial is left split
        raise SystemExit(f"{len(taken)} file(s) already exist in {target}, e.g. {taken[0]}; nothing moved")
    for config_hash in hashes:
        move_trial(args.store, source, target, config_hash, args.dry_run, args.copy)
    action = "copy" if args.copy else "move"
    verb = f"would {action}" if args.dry_run else {"copy": "copied", "move": "moved"}[action]
    print(f"{verb} {len(hashes)} {args.method} trial(s) at lr {sorted(set(args.lr))} from {source} to {target}")


if __name__ == "__main__":
    main()
