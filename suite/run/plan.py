"""What a sweep has to do, read from its spec and its store once and handed down. No Ray, no Optuna; writes nothing.

`make_plan(expansion, results)`: the trials of the spec whose learning rate is known
(fixed, or chosen by an lr search already stored), the config hashes already in
the store, the lr searches still to run and how many trials wait for them, and
the damaged files found on the way. `bench sweep --dry-run` prints it; the
driver makes it once under its store lock and, once pending searches have
chosen their lrs, takes `with_lrs` of it. The plan carries the spec's expansion
(suite.sweep.expansion.Expansion, made once per command): every later stage resolves it, none expands the
spec again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import json

from suite.config import TrialConfig
from suite.results.store import scan_table, side_non_files
from suite.run.lr.records import load_chosen_lrs
from suite.sweep.expansion import Expansion, expand_spec
from suite.sweep.spec import LRSearch, Spec


@dataclass(frozen=True)
class SweepPlan:
    spec: Spec
    results: str
    trials: list[TrialConfig]  # every trial whose lr is known, in run order
    done: frozenset[str]  # config hashes of the sweep already in the store
    chosen: dict[str, dict]  # lr-search key -> its stored choice record
    pending: list[LRSearch]  # lr searches to run before the trials that wait for them
    waiting: dict[str, int] = field(default_factory=dict)  # method -> trials waiting for a pending search
    damaged: list = field(default_factory=list)  # files that do not read (store.Damage); a run moves them aside
    # Stored trials of the plan's configurations trained on other data than the plan's, by their data's
    # fingerprint ("not recorded": rows written before provenance): kept, not reused, trained again here.
    other_data: dict[str, int] = field(default_factory=dict)
    expansion: Expansion | None = None  # the spec's trials, built once, resolved here for the lrs known

    @property
    def searches(self) -> tuple[LRSearch, ...]:
        """The spec's lr searches, chosen or pending, in the spec's order."""
        return self.expansion.searches

    def listed(self) -> list[TrialConfig]:
        """Every trial, those waiting for an lr search at the stand-in lr (to count and to preview)."""
        return self.expansion.listed({k: v["lr"] for k, v in self.chosen.items()})

    @property
    def todo(self) -> list[TrialConfig]:
        return [cfg for cfg in self.trials if cfg.config_hash not in self.done]

    @property
    def already_done(self) -> int:
        return sum(cfg.config_hash in self.done for cfg in self.trials)

    @property
    def blocked(self) -> int:
        """Trials that cannot run until a pending lr search has chosen their lr."""
        return sum(self.waiting.values())

    def per_method(self) -> list[tuple[str, int, int]]:
        """(method, trials, done) in the spec's method order; trials waiting for an lr search count as not done."""
        out = []
        for method in self.spec.method_names:
            mine = [cfg for cfg in self.trials if cfg.method == method]
            out.append((method, len(mine) + self.waiting.get(method, 0), sum(c.config_hash in self.done for c in mine)))
        return out

    def with_lrs(self, chosen: dict[str, dict]) -> "SweepPlan":
        """The plan once the lr searches in `chosen` have finished (a failed search's trials keep waiting)."""
        chosen = {**self.chosen, **chosen}
        trials = self.expansion.trials({k: v["lr"] for k, v in chosen.items()})
        listed = Counter(c.method for c in self.trials) + Counter(self.waiting)
        waiting = dict(listed - Counter(c.method for c in trials))
        return replace(self, trials=trials, chosen=chosen, waiting=waiting,
                       pending=[s for s in self.pending if s.key not in chosen])

    def with_done(self, done: set[str]) -> "SweepPlan":
        return replace(self, done=frozenset(done))


def make_plan(source: Expansion | Spec, results: str) -> SweepPlan:
    """The sweep's plan from its spec's expansion (a spec is expanded here) and what the store holds now (see
    the module docstring)."""
    expansion = source if isinstance(source, Expansion) else expand_spec(source)
    spec, damaged = expansion.spec, []
    chosen = load_chosen_lrs(spec, expansion.searches, results, damaged)
    lrs = {k: v["lr"] for k, v in chosen.items()}
    pending = [s for s in expansion.searches if s.key not in chosen]
    trials = expansion.trials(lrs)
    waiting: dict[str, int] = {}
    if pending:  # counted with a stand-in lr: their config hashes are not known yet
        listed = Counter(c.method for c in expansion.listed(lrs))
        waiting = dict(listed - Counter(c.method for c in trials))
    stored, bad_rows = scan_table(results, spec.name, "rows")
    pinned = dict(spec.train).get("data_fingerprint") is not None and not any(
        dict(spec.train).get("data_fingerprint") == fp for fp in UNKNOWN_DATA)
    return SweepPlan(spec, results, trials, frozenset(stored), chosen, pending, waiting,
                     damaged + bad_rows + side_non_files(results, spec.name),
                     other_data(trials, stored) if pinned else {}, expansion)


# Placeholders a plan may be pinned to when its data are not known (a dry run without the data on disk).
UNKNOWN_DATA = ("not-on-disk",)


def _without_data(cfg: TrialConfig) -> str:
    return replace(cfg, data_fingerprint=None).config_hash


def other_data(trials: list[TrialConfig], stored: dict) -> dict[str, int]:
    """{fingerprint: count} of the stored trials that are one of `trials` but for the data they trained on."""
    wanted = {_without_data(cfg) for cfg in trials if cfg.config_hash not in stored}
    counts: Counter = Counter()
    for config_hash, table in stored.items():
        first = table.slice(0, 1).to_pylist()[0]
        try:
            cfg = TrialConfig.from_dict(json.loads(first["config_json"]))
        except (TypeError, ValueError):  # a config this code cannot read is no trial of this plan
            continue
        if cfg.config_hash == config_hash and _without_data(cfg) in wanted:
            counts[first.get("data_fingerprint") or cfg.data_fingerprint or "not recorded"] += 1
    return dict(counts)


__all__ = ["SweepPlan", "make_plan"]
