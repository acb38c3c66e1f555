"""A validated `Spec` -> its TrialConfigs (in run order) and the lr searches it needs, built once per command
(`expand_spec` -> `Expansion`)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Mapping

from suite.config import NON_IDENTITY_FIELDS, ConfigError, TrialConfig, at_default
from suite.builtins import METHODS
from suite.methods.validation import validate_trial
from suite.results.layout import lr_search_sweep
from suite.sweep.overrides import with_data
from suite.sweep.spec import AUTO, LRSearch, MethodBlock, Spec, SpecError


def _combos(block: MethodBlock) -> list[dict]:
    keys = [k for k, _ in block.axes]
    return [dict(zip(keys, values)) for values in itertools.product(*(v for _, v in block.axes))]


def _fields(spec: Spec, block: MethodBlock, combo: dict, seed: int) -> dict:
    fields = {"model": spec.model, "dataset": spec.dataset, "method": block.name, "seed": seed,
              "sweep": spec.name, **dict(spec.train)}
    fields.update(combo)
    if block.targets:
        fields["compressions"] = block.targets
    if block.lr_by_depth:
        fields["lr"] = dict(block.lr_by_depth)[combo["depth"]]
    return fields


def _make(spec: Spec, block: MethodBlock, fields: dict) -> TrialConfig:
    """The trial, checked as `run_trial` will check it, so a spec fails before anything runs."""
    try:
        cfg = TrialConfig(**fields)
        validate_trial(cfg)
    except ConfigError as exc:
        raise SpecError(f"{spec.path}: key 'methods.{block.name}': {exc}") from exc
    return cfg


# The lr-search key digests every field of the search's config as it was when the key was made. A
# field added since then enters only away from its default, so the keys (and the searches stored
# under them) of older stores stay valid: as in the config hash, an upgrade retrains nothing.
_KEYED_FIELDS = frozenset({
    "model", "dataset", "method", "seed", "epochs", "batch_size", "lr", "momentum", "schedule", "lam", "depth",
    "compressions", "omega_min", "base_init", "include_bias", "finetune_epochs", "weight_decay", "pilot_schedule",
    "pilot_budget", "sweep"})


def _search_key(method: str, depth: int | None, probe: TrialConfig, settings) -> str:
    payload = {k: v for k, v in probe.to_dict().items() if k != "lr" and k not in NON_IDENTITY_FIELDS
               and (k in _KEYED_FIELDS or not at_default(k, v))}
    payload["lr_search"] = settings.describe()
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=list).encode()).hexdigest()[:10]
    return f"{method}" + (f"_D{depth}" if depth is not None else "") + f"_{digest}"


def _searches(spec: Spec) -> list[tuple[LRSearch, TrialConfig]]:
    """The lr searches the spec needs, each with its probe (its config at lr 1.0, from which its key is made)."""
    out: dict[str, tuple[LRSearch, TrialConfig]] = {}
    settings = spec.lr_search
    seed = settings.seed if settings.seed is not None else spec.seeds[0]
    for block in spec.methods:
        for combo in _combos(block):
            fields = _fields(spec, block, combo, seed)
            if fields.get("lr") != AUTO:
                continue
            base = dict(fields)
            base.pop("lr")
            if "lam" in METHODS[block.name].requires or "lam" in base:
                base["lam"] = settings.lam
            base["sweep"] = lr_search_sweep(spec.name)
            probe = _make(spec, block, {**base, "lr": 1.0})
            key = _search_key(block.name, base.get("depth"), probe, settings)
            out.setdefault(key, (LRSearch(key, block.name, base.get("depth"), tuple(sorted(base.items())), settings),
                                 probe))
    return list(out.values())


def lr_searches(spec: Spec) -> list[LRSearch]:
    """The learning-rate searches the spec needs (one per method/depth/... with lr `auto`)."""
    return [search for search, _ in _searches(spec)]


def _search_key_for(block: MethodBlock, combo: dict, searches: dict[tuple, str]) -> str:
    probe = {k: v for k, v in combo.items() if k not in ("lam", "lr")}
    return searches[(block.name, tuple(sorted(probe.items())))]


STAND_IN_LR = 1.0  # the lr of a trial whose `auto` lr is not chosen yet, where one is listed anyway


@dataclass(frozen=True)
class Expansion:
    """Every trial of a spec, built and checked once (`expand_spec`), for every stage of one command: the plan,
    the previews and the run resolve it for the learning rates known then, building no trial again.

    `points` are the grid's trials in run order (seed, then method, then grid), duplicates included; a trial
    whose lr is `auto` is held at a stand-in lr with the key of the search that chooses it."""

    spec: Spec
    searches: tuple[LRSearch, ...]
    probes: tuple[TrialConfig, ...]  # each search's config at lr 1.0 (its key is a digest of it)
    points: tuple[tuple[TrialConfig, str | None], ...]

    def trials(self, lrs: Mapping[str, float] | None = None) -> list[TrialConfig]:
        """The trials whose lr is known (fixed, or chosen in `lrs`: search key -> lr), without duplicates."""
        return self._resolved(lrs, "skip")

    def listed(self, lrs: Mapping[str, float] | None = None) -> list[TrialConfig]:
        """Every trial, those whose lr `lrs` does not give at the stand-in lr (to count and to preview)."""
        return self._resolved(lrs, "stand-in")

    def _resolved(self, lrs: Mapping[str, float] | None, unresolved: str) -> list[TrialConfig]:
        out: dict[str, TrialConfig] = {}
        for cfg, key in self.points:
            if key is not None:
                if lrs is not None and key in lrs:
                    cfg = self._with_lr(cfg, lrs[key])
                elif unresolved == "skip":
                    continue
                elif unresolved == "error":
                    raise SpecError(f"{self.spec.path}: key 'methods.{cfg.method}.lr': 'auto' learning rate for "
                                    f"{key} has not been searched yet (run the sweep, which searches it first)")
            out.setdefault(cfg.config_hash, cfg)
        return list(out.values())

    def _with_lr(self, cfg: TrialConfig, lr: float) -> TrialConfig:
        try:
            return dataclasses.replace(cfg, lr=float(lr))
        except ConfigError as exc:
            raise SpecError(f"{self.spec.path}: key 'methods.{cfg.method}': {exc}") from exc

    def pinned(self, fingerprint: str) -> "Expansion":
        """The expansion of the spec pinned to the data of `fingerprint` (suite.sweep.overrides.with_data), made
        from this one: the fingerprint enters every trial and search, and so the searches' keys."""
        spec, searches, probes, renamed = with_data(self.spec, fingerprint), [], [], {}
        for search, probe in zip(self.searches, self.probes):
            probe = dataclasses.replace(probe, data_fingerprint=fingerprint)
            key = _search_key(search.method, search.depth, probe, search.settings)
            base = tuple(sorted({**dict(search.base), "data_fingerprint": fingerprint}.items()))
            searches.append(dataclasses.replace(search, key=key, base=base))
            probes.append(probe)
            renamed[search.key] = key
        points = tuple((dataclasses.replace(cfg, data_fingerprint=fingerprint), renamed.get(key))
                       for cfg, key in self.points)
        return Expansion(spec, tuple(searches), tuple(probes), points)


def expand_spec(spec: Spec) -> Expansion:
    """The spec's trials and lr searches, each built and checked as `run_trial` will check it (SpecError naming
    the spec's key otherwise)."""
    found = _searches(spec)
    searches = {}
    for s, _ in found:
        base = dict(s.base)
        axis_keys = [k for k, _ in spec.method(s.method).axes if k not in ("lam", "lr")]
        searches[(s.method, tuple(sorted((k, base[k]) for k in axis_keys if k in base)))] = s.key
    points = []
    for seed in spec.seeds:
        for block in spec.methods:
            for combo in _combos(block):
                fields, key = _fields(spec, block, combo, seed), None
                if fields.get("lr") == AUTO:
                    key = _search_key_for(block, combo, searches)
                    fields["lr"] = STAND_IN_LR
                points.append((_make(spec, block, fields), key))
    return Expansion(spec, tuple(s for s, _ in found), tuple(p for _, p in found), tuple(points))


def expand(spec: Spec, lrs: Mapping[str, float] | None = None, *, placeholder_lr: bool = False,
           skip_unresolved: bool = False) -> list[TrialConfig]:
    """Every trial of the spec, in run order (seed, then method, then grid), without duplicates.

    `lrs` maps an `LRSearch.key` to the learning rate chosen for it. An `auto`
    learning rate that `lrs` does not resolve raises SpecError, unless
    `placeholder_lr` (validation only) puts in a stand-in or `skip_unresolved`
    leaves those trials out. (One command expands its spec once, with
    `expand_spec`, and resolves that; this is the same for a single use.)
    """
    unresolved = "stand-in" if placeholder_lr else "skip" if skip_unresolved else "error"
    return expand_spec(spec)._resolved(lrs, unresolved)


def count_trials(spec: Spec) -> int:
    """How many trials the spec has, from the axis lengths, without building them."""
    return len(spec.seeds) * sum(math.prod(len(v) for _, v in block.axes) for block in spec.methods)
