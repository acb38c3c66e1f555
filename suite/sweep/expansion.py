"""A validated `Spec` -> its TrialConfigs (in run order) and the lr searches it needs."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from typing import Mapping

from suite.config import NON_IDENTITY_FIELDS, ConfigError, TrialConfig, at_default
from suite.builtins import METHODS
from suite.methods.validation import validate_trial
from suite.results.layout import lr_search_sweep
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


def lr_searches(spec: Spec) -> list[LRSearch]:
    """The learning-rate searches the spec needs (one per method/depth/... with lr `auto`)."""
    out: dict[str, LRSearch] = {}
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
            payload = {k: v for k, v in probe.to_dict().items() if k != "lr" and k not in NON_IDENTITY_FIELDS
                       and (k in _KEYED_FIELDS or not at_default(k, v))}
            payload["lr_search"] = settings.describe()
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=list).encode()).hexdigest()[:10]
            depth = base.get("depth")
            key = f"{block.name}" + (f"_D{depth}" if depth is not None else "") + f"_{digest}"
            out.setdefault(key, LRSearch(key, block.name, depth, tuple(sorted(base.items())), settings))
    return list(out.values())


def _search_key_for(block: MethodBlock, combo: dict, searches: dict[tuple, str]) -> str:
    probe = {k: v for k, v in combo.items() if k not in ("lam", "lr")}
    return searches[(block.name, tuple(sorted(probe.items())))]


def expand(spec: Spec, lrs: Mapping[str, float] | None = None, *, placeholder_lr: bool = False,
           skip_unresolved: bool = False) -> list[TrialConfig]:
    """Every trial of the spec, in run order (seed, then method, then grid), without duplicates.

    `lrs` maps an `LRSearch.key` to the learning rate chosen for it. An `auto`
    learning rate that `lrs` does not resolve raises SpecError, unless
    `placeholder_lr` (validation only) puts in a stand-in or `skip_unresolved`
    leaves those trials out.
    """
    searches = {}
    for s in lr_searches(spec):
        base = dict(s.base)
        block = spec.method(s.method)
        axis_keys = [k for k, _ in block.axes if k not in ("lam", "lr")]
        searches[(s.method, tuple(sorted((k, base[k]) for k in axis_keys if k in base)))] = s.key
    out: dict[str, TrialConfig] = {}
    for seed in spec.seeds:
        for block in spec.methods:
            for combo in _combos(block):
                fields = _fields(spec, block, combo, seed)
                if fields.get("lr") == AUTO:
                    key = _search_key_for(block, combo, searches)
                    if lrs is not None and key in lrs:
                        fields["lr"] = float(lrs[key])
                    elif placeholder_lr:
                        fields["lr"] = 1.0
                    elif skip_unresolved:
                        continue
                    else:
                        raise SpecError(f"{spec.path}: key 'methods.{block.name}.lr': 'auto' learning rate for "
                                        f"{key} has not been searched yet (run the sweep, which searches it first)")
                cfg = _make(spec, block, fields)
                out.setdefault(cfg.config_hash, cfg)
    return list(out.values())


def count_trials(spec: Spec) -> int:
    """How many trials the spec has, from the axis lengths, without building them."""
    return len(spec.seeds) * sum(math.prod(len(v) for _, v in block.axes) for block in spec.methods)
