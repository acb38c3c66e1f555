"""A loaded YAML document -> validated `Spec`.

Anything wrong -- unknown keys, unknown method/model/dataset, values out of
range, a method missing a key it needs, a combination no trial allows --
raises `SpecError` naming the file, the key path and what is allowed, before
anything runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Sequence

from suite.config import FIELDS, is_integer, is_number
from suite.core.data.registry import DATASETS
from suite.core.models.registry import MODELS
from suite.limits import cpus_per_trial_problem
from suite.builtins import METHODS
from suite.results.layout import SWEEP_NAME_RULE, StoreNameError, check_sweep_name
from suite.sweep.adaptive_spec import AdaptiveSpecError, parse_adaptive
from suite.sweep.checks import SpecContext, check_max_trials, check_value, check_values, train_keys
from suite.sweep.expansion import count_trials, expand
from suite.sweep.method_block import parse_method_block
from suite.sweep.paper_spec import PaperSpecError, parse_paper
from suite.sweep.spec import DEFAULT_MAX_TRIALS, LRSearchSettings, Spec, check_gpu_share

TOP_KEYS = ("name", "description", "model", "dataset", "train", "seeds", "methods", "resources", "lr_search", "plugins",
            "adaptive", "paper")
REQUIRED_TOP = ("model", "dataset", "methods")
RESOURCE_KEYS = ("cpus_per_trial", "gpus_per_trial")
LR_SEARCH_KEYS = tuple(f.name for f in dataclasses.fields(LRSearchSettings))


def import_plugins(modules: Sequence[str]) -> None:
    """Import plugins (they register their methods, models or datasets): a module name on the path, or a
    `.py` file, imported once per process under a name derived from its resolved path."""
    for module in modules:
        if module.endswith(".py"):
            _import_file(Path(module).expanduser().resolve())
        else:
            importlib.import_module(module)


def plugin_refs(plugins: Sequence[str], spec_path: str) -> tuple[str, ...]:
    """The spec's plugins with each `.py` file made absolute relative to the spec's folder, so a worker in
    another working directory imports the same file."""
    base = Path(spec_path).expanduser().resolve().parent
    return tuple(str((base / p).resolve()) if p.endswith(".py") else p for p in plugins)


def _import_file(path: Path) -> None:
    name = "bench_plugin_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    if name in sys.modules:
        return
    if not path.is_file():
        raise ImportError(f"no plugin file {path}")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def _parse_lr_search(ctx: SpecContext, value: Any) -> LRSearchSettings:
    block = ctx.mapping(value, "lr_search")
    ctx.check_keys(block, LR_SEARCH_KEYS, "lr_search")
    out: dict[str, Any] = {}
    if "budget" in block:
        if not (is_integer(block["budget"]) and block["budget"] >= 1):
            raise ctx.error("lr_search.budget", f"value {block['budget']!r} is out of range", "an integer >= 1")
        out["budget"] = block["budget"]
    if "space" in block:
        if block["space"] not in ("grid", "loguniform"):
            raise ctx.error("lr_search.space", f"value {block['space']!r} is not allowed", "'grid', 'loguniform'")
        out["space"] = block["space"]
    if "lam" in block:
        # The λ of every searched trial: a number, as the searched methods require one.
        if block["lam"] is None:
            raise ctx.error("lr_search.lam", "value None is out of range", "a finite number >= 0")
        out["lam"] = check_value(ctx, block["lam"], "lam", "lr_search.lam")
    for k in ("low", "high"):
        if k in block:
            out[k] = check_value(ctx, block[k], "lr", f"lr_search.{k}")
    if "grid" in block:
        out["grid"] = tuple(sorted(check_values(ctx, block["grid"], "lr", "lr_search.grid")))
    for k in ("seed", "sampler_seed"):  # a trial's seed, and Optuna's (numpy's: below 2**32 too)
        if k in block:
            if not FIELDS["seed"].accepts(block[k]):
                raise ctx.error(f"lr_search.{k}", f"value {block[k]!r} is out of range", FIELDS["seed"].allowed)
            out[k] = block[k]
    settings = LRSearchSettings(**out)
    if settings.low >= settings.high:
        raise ctx.error("lr_search", f"low ({settings.low}) must be < high ({settings.high})")
    if settings.space == "grid" and not settings.values():
        raise ctx.error("lr_search.grid", f"no grid value within [{settings.low}, {settings.high}]")
    return settings


def _parse_adaptive(ctx: SpecContext, value: Any):
    try:
        return parse_adaptive(value)
    except AdaptiveSpecError as exc:
        raise ctx.error(exc.key, exc.problem, exc.allowed) from None


def _parse_paper(ctx: SpecContext, value: Any):
    try:
        return parse_paper(value)
    except PaperSpecError as exc:
        raise ctx.error(exc.key, exc.problem, exc.allowed) from None


def _parse_seeds(ctx: SpecContext, raw: dict) -> tuple[int, ...]:
    seeds = raw.get("seeds", [0])
    seeds = seeds if isinstance(seeds, list) else [seeds]
    if not seeds or not all(FIELDS["seed"].accepts(s) for s in seeds):
        raise ctx.error("seeds", f"value {raw.get('seeds')!r} is not allowed",
                        f"a non-empty list, each {FIELDS['seed'].allowed}")
    if len(set(seeds)) != len(seeds):
        raise ctx.error("seeds", f"duplicate seeds in {seeds}")
    return tuple(seeds)


def _parse_resources(ctx: SpecContext, raw: dict) -> dict[str, Any]:
    """cpus_per_trial (default 1) and gpus_per_trial: a number, or None for `auto` / no key
    (the share suite/run/cluster/gpu_share.py packs onto the allocation's GPUs; 0 where it has none)."""
    resources = ctx.mapping(raw.get("resources"), "resources")
    ctx.check_keys(resources, RESOURCE_KEYS, "resources")
    for k, v in resources.items():
        if k == "gpus_per_trial":
            if v != "auto" and check_gpu_share("", v):
                raise ctx.error(f"resources.{k}", f"value {v!r} is out of range",
                                "auto, a number in [0, 1] (a share of one GPU; 0: CPU only) or a whole number")
            continue
        if cpus_per_trial_problem(v) is not None:
            raise ctx.error("resources.cpus_per_trial", f"value {v!r} is out of range",
                            cpus_per_trial_problem(v).split("allowed: ", 1)[1])
        if not (is_number(v) and v > 0):
            raise ctx.error(f"resources.{k}", f"value {v!r} is out of range",
                            "a number > 0")
    gpus = resources.get("gpus_per_trial", "auto")
    return {"cpus_per_trial": float(resources.get("cpus_per_trial", 1.0)),
            "gpus_per_trial": None if gpus == "auto" else float(gpus)}


def _check_header(ctx: SpecContext, raw: Any) -> None:
    """The top level: a mapping of known keys, plugins importable, the required keys there."""
    if not isinstance(raw, dict):
        raise ctx.error("", f"a sweep spec must be a YAML mapping, got {type(raw).__name__}", ", ".join(TOP_KEYS))
    ctx.check_keys(raw, TOP_KEYS, "")
    plugins = raw.get("plugins") or []
    if not (isinstance(plugins, list) and all(isinstance(p, str) for p in plugins)):
        raise ctx.error("plugins", f"must be a list of module names or .py files, got {plugins!r}")
    for module in plugin_refs(plugins, ctx.path):
        try:
            import_plugins([module])
        except Exception as exc:  # noqa: BLE001 - any import failure is a spec error
            raise ctx.error("plugins", f"cannot import {module!r}: {exc}") from exc
    for k in REQUIRED_TOP:
        if k not in raw:
            raise ctx.error(k, "missing", f"a spec needs {', '.join(REQUIRED_TOP)}")


def parse_spec(raw: Any, path: str, default_name: str = "adhoc", max_trials: int = DEFAULT_MAX_TRIALS,
               check_trials: bool = True) -> Spec:
    """Validate a loaded YAML document into a `Spec` (raises SpecError); `check_trials`: every trial built and
    checked too (a command that expands the spec anyway leaves that to its own expansion, `expand_spec`)."""
    ctx = SpecContext(path, check_max_trials(max_trials))
    _check_header(ctx, raw)
    name = raw.get("name", default_name)
    try:
        check_sweep_name(name)
    except StoreNameError:
        raise ctx.error("name", f"value {name!r} is not allowed", SWEEP_NAME_RULE) from None
    if raw["model"] not in MODELS:
        raise ctx.error("model", f"unknown model {raw['model']!r}", ", ".join(sorted(MODELS)))
    if raw["dataset"] not in DATASETS:
        raise ctx.error("dataset", f"unknown dataset {raw['dataset']!r}", ", ".join(sorted(DATASETS)))

    train = ctx.mapping(raw.get("train"), "train")
    ctx.check_keys(train, train_keys(), "train")
    checked_train = {k: check_value(ctx, v, k, f"train.{k}") for k, v in train.items()}
    checked_train.pop("optimizer", None)  # not a config field; checked above

    seeds = _parse_seeds(ctx, raw)
    methods_raw = raw["methods"]
    if not isinstance(methods_raw, dict) or not methods_raw:
        raise ctx.error("methods", "must be a non-empty mapping of method name -> grid", ", ".join(sorted(METHODS)))
    blocks = tuple(parse_method_block(ctx, str(m), b) for m, b in methods_raw.items())

    spec = Spec(
        name=name, path=path, model=raw["model"], dataset=raw["dataset"],
        train=tuple(sorted(checked_train.items())), seeds=seeds, methods=blocks,
        **_parse_resources(ctx, raw), lr_search=_parse_lr_search(ctx, raw.get("lr_search")),
        plugins=plugin_refs(raw.get("plugins") or (), path), description=str(raw.get("description", "") or ""),
        adaptive=_parse_adaptive(ctx, raw["adaptive"]) if "adaptive" in raw else None,
        paper=dataclasses.replace(_parse_paper(ctx, raw["paper"]), model=raw["model"], dataset=raw["dataset"])
        if "paper" in raw else None,
    )
    # Count the trials first (cheap), then build every trial once, so a bad
    # combination fails before anything runs.
    ctx.count(count_trials(spec), "", what="trials")
    if check_trials:
        expand(spec, lrs=None, placeholder_lr=True)
    return spec
