"""The stored side of the `auto` learning-rate searches: their trials, their choices, their adoption. No Ray.

A search's trials are ordinary trials in the store under the sweep name
`<sweep>/lr_search`; its choice is `<results>/<sweep>/lr_search/<key>.json`
(`suite.results.layout.lr_search_path`). A later run reads both back and
searches nothing; a larger budget than a stored choice had extends its search.
"""

from __future__ import annotations

import json
from typing import Sequence
from datetime import datetime, timezone

from suite.config import ConfigError, TrialConfig
from suite.results import layout
from suite.results.files import write_bytes
from suite.results.store import DamagedRecord, TrialResult, load_table, read_record, scan_table, write_trial
from suite.sweep.spec import LRSearch, Spec


def load_chosen_lrs(spec: Spec, searches: Sequence[LRSearch], results: str,
                    damaged: list | None = None) -> dict[str, dict]:
    """Those of the spec's lr `searches` (suite.sweep.expansion) already finished: key -> record (with "lr").

    A record that does not read is left out (so it is searched again) and, when
    `damaged` is a list, appended to it; the driver has moved such files aside.
    """
    out = {}
    for search in searches:
        try:
            choice = read_record(results, layout.lr_search_path(spec.name, search.key))
        except DamagedRecord as exc:
            if damaged is not None:
                damaged.append(exc.damage)
            continue
        if choice is None:
            continue
        # A larger budget than the stored search had extends it (its trials are reused).
        if choice.get("search", {}).get("budget", 0) >= search.settings.budget:
            out[search.key] = choice
    return out


def search_trials(search: LRSearch, results: str) -> list[dict]:
    """This search's trials already in the store: [{lr, test_acc, status, config_hash}], by lr."""
    sweep = dict(search.base)["sweep"]
    rows = load_table(results, sweep)
    if rows.empty:
        return []
    # Compared on every field but the searched lr and what only files a trial (its sweep name), by
    # identity: a field added later with a default is absent from older stored configs, and equal.
    want = {k: v for k, v in search.config(1.0).identity().items() if k != "lr"}
    out = []
    for row in rows[rows.point == "final"].itertuples():
        try:
            stored = TrialConfig.from_dict(json.loads(row.config_json))
        except (ConfigError, TypeError, ValueError):  # not a config this version reads: not this search's trial
            continue
        lr = stored.lr
        if {k: v for k, v in stored.identity().items() if k != "lr"} == want:
            out.append({"lr": float(lr), "test_acc": float(row.test_acc), "status": row.status,
                        "config_hash": row.config_hash})
    return sorted(out, key=lambda r: r["lr"])


def usable_search_trials(search: LRSearch, results: str) -> list[dict]:
    """The stored trials inside the search's current space (its grid, or its [low, high] range)."""
    settings = search.settings
    grid = list(settings.values()) if settings.space == "grid" else []
    return [t for t in search_trials(search, results)
            if (t["lr"] in grid if grid else settings.low <= t["lr"] <= settings.high)]


def store_choice(search: LRSearch, spec: Spec, results: str) -> dict | None:
    """Choose the best stored trial of the search (ok ones first), write the choice and return it; None if none."""
    settings = search.settings
    trials = usable_search_trials(search, results)
    usable = [t for t in trials if t["status"] == "ok"] or trials
    if not usable:
        return None
    best = max(usable, key=lambda t: (t["test_acc"], -t["lr"]))
    base = dict(search.base)
    choice = {
        "key": search.key, "method": search.method, "depth": search.depth, "lr": best["lr"],
        "test_acc": best["test_acc"], "config_hash": best["config_hash"], "lam": settings.lam,
        "seed": base["seed"], "epochs": base.get("epochs"),
        "search": {**settings.describe(), "budget": settings.budget, "sampler": "optuna TPE",
                   "sampler_seed": settings.sampler_seed},
        "trials": trials, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_bytes(results, layout.lr_search_path(spec.name, search.key), json.dumps(choice, indent=1).encode())
    return choice


def adopt_search_trials(spec: Spec, searches: Sequence[LRSearch], results: str, trials: list[TrialConfig],
                        done: set[str]) -> set[str]:
    """Copy lr-search trials that are also grid trials (λ, seed and lr equal) into the sweep's store.

    The search's best trial at λ = 1e-6 is exactly the grid's trial at that λ for
    the search seed; it is not trained twice. Returns the updated done hashes.
    """
    if not searches:
        return done
    search_sweep = layout.lr_search_sweep(spec.name)
    # Only files that pass the store's check are copied (a damaged one is not a result).
    checked = {table: scan_table(results, search_sweep, table)[0] for table in ("rows", "layers", "history")}
    done = set(done)
    for cfg in trials:
        if cfg.config_hash in done or cfg.config_hash not in checked["rows"]:
            continue
        tables = {table: (found[cfg.config_hash].to_pylist() if cfg.config_hash in found else [])
                  for table, found in checked.items()}
        for row in tables["rows"]:
            row["sweep"] = spec.name
            row["config_json"] = json.dumps(cfg.to_dict(), sort_keys=True, default=list)
        write_trial(results, spec.name, TrialResult(tables["rows"], tables["layers"], tables["history"]))
        done.add(cfg.config_hash)
    return done


__all__ = ["adopt_search_trials", "load_chosen_lrs", "search_trials", "store_choice", "usable_search_trials"]
