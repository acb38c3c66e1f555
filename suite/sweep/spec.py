"""Sweep specs (YAML) -> validated `Spec` -> `list[TrialConfig]`.

A spec names one model and one dataset, the shared training protocol, the
seeds, and per method the grid to run::

    name: lenet300_fmnist
    model: lenet300
    dataset: fmnist
    train: {epochs: 75, batch_size: 256, optimizer: sgd, momentum: 0.9, lr: 0.15, schedule: cosine}
    seeds: [0, 1, 2]
    methods:
      dense: {}
      dwf:
        depth: [2, 3, 4]
        lam: {logspace: [1.0e-6, 1.0e-1, 20]}
        lr: {2: auto, 3: 0.5, 4: auto}     # per-depth; `auto` = searched (App. G.2)
      pilot: {lam: [1.0e-4, 3.0e-4, 1.0e-3], lr: 0.2}   # method keys override train keys
      gmp: {compression: {logspace: [10, 1.0e5, 15]}}

Rules:

* A list is a grid axis; `{logspace: [lo, hi, n]}` / `{linspace: [lo, hi, n]}`
  expand to n values (rounded to 6 significant digits, so hashes are stable).
* `compression` is an axis (one trial per target) for the prune-at-init
  methods (`compressions == "one"`); for GMP-like methods (`"many"`) and the
  post-hoc ladders (`"optional"`) all targets go into one trial.
* `lr` in a method block may be a number, a list, `auto`, or a per-depth
  mapping `{2: 0.5, 3: auto}` (methods with a depth grid). `auto` learning
  rates are chosen by `suite.run.tune` (Optuna inside Ray Tune) before the grid.
* Anything wrong -- malformed YAML, unknown keys, unknown method/model/dataset,
  values out of range, a method missing a key it needs -- raises `SpecError`
  naming the file, the key path and what is allowed, before anything runs.

This module knows nothing of Ray; `suite.run.tune` runs what `expand` returns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from suite.config import ConfigError, TrialConfig
from suite.paths import SWEEPS_DIR
from suite.grid import linspace, logspace, round_sig  # noqa: F401 - part of this module's API
from suite.results.layout import SWEEP_NAME_RULE, StoreNameError, check_sweep_name

SWEEPS_ENV = "BENCH_SWEEPS"

AUTO = "auto"

TOP_KEYS = ("name", "description", "model", "dataset", "train", "seeds", "methods", "resources", "lr_search", "plugins",
            "adaptive")
REQUIRED_TOP = ("model", "dataset", "methods")
# Training-protocol keys: in `train`, and overridable per method.
TRAIN_KEYS = ("epochs", "batch_size", "optimizer", "momentum", "lr", "schedule", "omega_min", "base_init",
              "include_bias", "finetune_epochs", "weight_decay", "pilot_schedule", "pilot_budget")
GRID_KEYS = ("lam", "depth", "compression")
METHOD_KEYS = tuple(sorted(set(TRAIN_KEYS) - {"optimizer"} | set(GRID_KEYS)))
RESOURCE_KEYS = ("cpus_per_trial", "gpus_per_trial")
LR_SEARCH_KEYS = ("budget", "lam", "space", "low", "high", "grid", "seed", "sampler_seed")
# The paper's discrete LR grid between 0.05 and 1 (App. G.2).
DEFAULT_LR_GRID = (0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
DEFAULT_LR_BUDGET = 8
# A spec with more trials is refused before it is built (--max-trials raises the
# limit): a typo such as n = 10^8 in a logspace must not run for minutes or exhaust memory.
DEFAULT_MAX_TRIALS = 20_000


class SpecError(ValueError):
    """A sweep spec is invalid; the message names the file, the key and what is allowed."""


# --------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads `1e-6` as a float (YAML 1.1 wants `1.0e-6`) and rejects duplicate keys."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |\.[0-9_]+(?:[eE][-+][0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class LRSearchSettings:
    """How `auto` learning rates are chosen (App. G.2): best test accuracy at small λ."""

    budget: int = DEFAULT_LR_BUDGET
    lam: float = 1e-6
    space: str = "grid"  # "grid" (discrete, Optuna categorical) or "loguniform"
    low: float = 0.05
    high: float = 1.0
    grid: tuple[float, ...] = ()
    seed: int | None = None  # default: the sweep's first seed
    sampler_seed: int = 0

    def values(self) -> tuple[float, ...]:
        """The discrete candidates of a grid search."""
        grid = self.grid or DEFAULT_LR_GRID
        return tuple(v for v in grid if self.low <= v <= self.high)

    def describe(self) -> dict:
        space = {"space": self.space, "low": self.low, "high": self.high}
        if self.space == "grid":
            space["grid"] = list(self.values())
        return space


@dataclass(frozen=True)
class MethodBlock:
    """One method's part of a spec, validated; `axes` are grid axes in key order."""

    name: str
    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    # Compression targets of one trial ("many"/"optional"), else ().
    targets: tuple[float, ...] = ()
    # Per-depth learning rates {depth: float | "auto"} (empty: lr is an axis/train key).
    lr_by_depth: tuple[tuple[int, Any], ...] = ()


@dataclass(frozen=True)
class Spec:
    name: str
    path: str
    model: str
    dataset: str
    train: tuple[tuple[str, Any], ...]
    seeds: tuple[int, ...]
    methods: tuple[MethodBlock, ...]
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    lr_search: LRSearchSettings = LRSearchSettings()
    plugins: tuple[str, ...] = ()
    description: str = ""
    # suite.sweep.adaptive_spec.AdaptiveSettings of the `adaptive` key (None: not given; defaults apply)
    adaptive: Any = None

    @property
    def method_names(self) -> list[str]:
        return [m.name for m in self.methods]

    def method(self, name: str) -> MethodBlock:
        return next(m for m in self.methods if m.name == name)


@dataclass(frozen=True)
class LRSearch:
    """One learning-rate search: a method (and depth etc.) whose lr is `auto`."""

    key: str
    method: str
    depth: int | None
    base: tuple[tuple[str, Any], ...]  # TrialConfig fields except lr
    settings: LRSearchSettings

    def config(self, lr: float) -> TrialConfig:
        return TrialConfig(**dict(self.base), lr=float(lr))

    @property
    def label(self) -> str:
        return f"{self.method}" + (f" D={self.depth}" if self.depth is not None else "")


# --------------------------------------------------------------------------- helpers


def cap_grid(values: Sequence[float], n: int) -> list[float]:
    """At most `n` of `values`, spread evenly over the sorted grid, endpoints kept."""
    ordered = sorted(values)
    if n >= len(ordered):
        return list(ordered)
    if n == 1:
        return [ordered[(len(ordered) - 1) // 2]]
    picks = sorted({round(i * (len(ordered) - 1) / (n - 1)) for i in range(n)})
    return [ordered[i] for i in picks]


def available_sweeps() -> list[str]:
    return sorted(p.stem for d in _sweep_dirs() if d.is_dir() for p in d.glob("*.yaml"))


def _sweep_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(SWEEPS_ENV, "").split(os.pathsep) if p]
    return extra + [SWEEPS_DIR]


def resolve_spec_path(name_or_path: str | Path) -> Path:
    """A spec name (`sweeps/NAME.yaml`) or a path to a YAML file."""
    text = str(name_or_path)
    looks_like_path = text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text
    if looks_like_path:
        path = Path(text).expanduser()
        if not path.is_file():
            raise SpecError(f"{path}: no such spec file")
        return path
    for directory in _sweep_dirs():
        for suffix in (".yaml", ".yml"):
            path = directory / f"{text}{suffix}"
            if path.is_file():
                return path
    raise SpecError(f"unknown sweep {text!r}; available: {', '.join(available_sweeps()) or '(none)'} "
                    f"(in {SWEEPS_DIR}), or give a path to a YAML file")


# --------------------------------------------------------------------------- parsing


class _Ctx:
    """Error context: the file, and the grid-size limit values are counted against."""

    def __init__(self, path: str, max_trials: int = DEFAULT_MAX_TRIALS):
        self.path = path
        self.max_trials = max_trials

    def error(self, key: str, problem: str, allowed: str | None = None) -> SpecError:
        text = f"{self.path}: key {key!r}: {problem}" if key else f"{self.path}: {problem}"
        if allowed:
            text += f"; allowed: {allowed}"
        return SpecError(text)

    def mapping(self, value: Any, key: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping, got {type(value).__name__} {value!r}")
        return value

    def check_keys(self, values: dict, allowed: Sequence[str], key: str) -> None:
        for k in values:
            if k not in allowed:
                where = f"{key}.{k}" if key else str(k)
                raise self.error(where, "unknown key", ", ".join(sorted(allowed)))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# Per key: (predicate, what is allowed).
_SCALARS: dict[str, tuple[Any, str]] = {
    "epochs": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "batch_size": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "optimizer": (lambda v: v == "sgd", "'sgd'"),
    "momentum": (lambda v: _is_number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "lr": (lambda v: _is_number(v) and v > 0, "a number > 0"),
    "schedule": (lambda v: v in ("cosine", "constant"), "'cosine' or 'constant'"),
    "omega_min": (lambda v: v is None or (_is_number(v) and 0 <= v < 1),
                  "null (3e-3 on the product) or a factor bound in [0, 1)"),
    "base_init": (lambda v: v in ("lecun", "kaiming"), "'lecun' or 'kaiming'"),
    "include_bias": (lambda v: isinstance(v, bool), "true or false"),
    "finetune_epochs": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "weight_decay": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    "pilot_schedule": (lambda v: isinstance(v, str) and v != "", "a schedule name"),
    "pilot_budget": (lambda v: _is_number(v) and v > 0, "a number > 0"),
    "lam": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    "depth": (lambda v: _is_int(v) and v >= 2, "an integer >= 2"),
    "compression": (lambda v: _is_number(v) and v > 1, "a compression ratio > 1 (total / nonzero)"),
}


def _scalar(ctx: _Ctx, value: Any, name: str, key: str) -> Any:
    ok, allowed = _SCALARS[name]
    if not ok(value):
        raise ctx.error(key, f"value {value!r} is out of range", allowed)
    numeric = ("lr", "lam", "momentum", "omega_min", "pilot_budget", "compression")
    return float(value) if name in numeric and value is not None else value


def _values(ctx: _Ctx, value: Any, name: str, key: str) -> list:
    """A scalar, a list, or {logspace|linspace: [lo, hi, n]} -> list of checked values."""
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in ("logspace", "linspace"):
            raise ctx.error(key, f"a mapping here must be {{logspace: [lo, hi, n]}} or {{linspace: [lo, hi, n]}}, "
                                 f"got {value!r}", "a value, a list, {logspace: [lo, hi, n]}, {linspace: [lo, hi, n]}")
        kind, args = next(iter(value.items()))
        if not (isinstance(args, list) and len(args) == 3 and _is_number(args[0]) and _is_number(args[1])
                and _is_int(args[2]) and args[2] >= 1):
            raise ctx.error(f"{key}.{kind}", f"must be [lo, hi, n] with numbers lo, hi and an integer n >= 1, got {args!r}")
        lo, hi, n = args
        check_count(ctx, n, f"{key}.{kind}")  # before the values are made: n may be 10^8
        if kind == "logspace" and (lo <= 0 or hi <= 0):
            raise ctx.error(f"{key}.{kind}", f"bounds must be > 0, got [{lo}, {hi}]")
        values = logspace(lo, hi, n) if kind == "logspace" else linspace(lo, hi, n)
        return [_scalar(ctx, v, name, f"{key}.{kind}") for v in values]
    if isinstance(value, list):
        if not value:
            raise ctx.error(key, "empty list", "a non-empty list")
        check_count(ctx, len(value), key)
        return [_scalar(ctx, v, name, f"{key}[{i}]") for i, v in enumerate(value)]
    return [_scalar(ctx, value, name, key)]


def _lr_value(ctx: _Ctx, value: Any, key: str) -> Any:
    if value == AUTO:
        return AUTO
    return _scalar(ctx, value, "lr", key)


def _parse_method(ctx: _Ctx, name: str, block: Any) -> MethodBlock:
    from suite.methods.base import METHODS

    key = f"methods.{name}"
    if name not in METHODS:
        raise ctx.error(key, f"unknown method {name!r}", ", ".join(sorted(METHODS)))
    method = METHODS[name]
    block = ctx.mapping(block, key)
    ctx.check_keys(block, METHOD_KEYS, key)
    if "depth" in block and not method.uses_depth:
        fixed = f" (it fixes D = {method.fixed_depth})" if method.fixed_depth else ""
        raise ctx.error(f"{key}.depth", f"method {name!r} takes no depth{fixed}",
                        "depth only for " + ", ".join(m.name for m in METHODS.values() if m.uses_depth))
    needed = set(method.requires)
    if method.compressions in ("one", "many"):
        needed.add("compression")
    for required in sorted(needed):
        if required not in block:
            raise ctx.error(f"{key}.{required}", f"missing: method {name!r} requires {sorted(needed)}")
    if "compression" in block and method.compressions == "none":
        raise ctx.error(f"{key}.compression", f"method {name!r} takes no compression targets")

    axes: list[tuple[str, tuple]] = []
    targets: tuple[float, ...] = ()
    lr_by_depth: dict[int, Any] = {}
    for k in sorted(block, key=lambda k: (("depth", "lam", "compression", "lr") + METHOD_KEYS).index(k)):
        value = block[k]
        kk = f"{key}.{k}"
        if k == "compression":
            values = _values(ctx, value, "compression", kk)
            if method.compressions == "one":
                axes.append(("compressions", tuple((v,) for v in values)))
            else:
                targets = tuple(values)
        elif k == "lr":
            if isinstance(value, dict) and not set(value) & {"logspace", "linspace"}:
                if not method.uses_depth:
                    raise ctx.error(kk, f"a per-depth lr mapping needs a method with a depth grid; {name!r} has none",
                                    "a number, a list, 'auto'")
                for d, lr in value.items():
                    depth = int(d) if isinstance(d, str) and d.isdigit() else d
                    if not (_is_int(depth) and depth >= 2):
                        raise ctx.error(f"{kk}.{d}", "per-depth lr keys must be depths", "integers >= 2")
                    lr_by_depth[depth] = _lr_value(ctx, lr, f"{kk}.{d}")
            elif value == AUTO:
                axes.append(("lr", (AUTO,)))
            else:
                axes.append(("lr", tuple(_values(ctx, value, "lr", kk))))
        else:
            axes.append((k, tuple(_values(ctx, value, k, kk))))
    if lr_by_depth:
        depths = dict(axes).get("depth", ())
        missing = [d for d in depths if d not in lr_by_depth]
        if missing:
            raise ctx.error(f"{key}.lr", f"no learning rate for depth(s) {missing}",
                            f"one entry per depth of {key}.depth {list(depths)}")
        extra = sorted(d for d in lr_by_depth if d not in depths)
        if extra:
            raise ctx.error(f"{key}.lr", f"learning rate(s) for depth(s) {extra} not in the grid",
                            f"one entry per depth of {key}.depth {list(depths)}")
    if any(v == AUTO for _, v in lr_by_depth.items()) or ("lr", (AUTO,)) in axes:
        if method.compressions in ("one", "many"):
            raise ctx.error(f"{key}.lr", f"'auto' is not supported for method {name!r}",
                            "'auto' for methods without compression targets")
    return MethodBlock(name, tuple(axes), targets, tuple(sorted(lr_by_depth.items())))


def _parse_lr_search(ctx: _Ctx, value: Any) -> LRSearchSettings:
    block = ctx.mapping(value, "lr_search")
    ctx.check_keys(block, LR_SEARCH_KEYS, "lr_search")
    out: dict[str, Any] = {}
    if "budget" in block:
        if not (_is_int(block["budget"]) and block["budget"] >= 1):
            raise ctx.error("lr_search.budget", f"value {block['budget']!r} is out of range", "an integer >= 1")
        out["budget"] = block["budget"]
    if "space" in block:
        if block["space"] not in ("grid", "loguniform"):
            raise ctx.error("lr_search.space", f"value {block['space']!r} is not allowed", "'grid', 'loguniform'")
        out["space"] = block["space"]
    for k in ("lam",):
        if k in block:
            out[k] = _scalar(ctx, block[k], "lam", f"lr_search.{k}")
    for k in ("low", "high"):
        if k in block:
            out[k] = _scalar(ctx, block[k], "lr", f"lr_search.{k}")
    if "grid" in block:
        out["grid"] = tuple(sorted(_values(ctx, block["grid"], "lr", "lr_search.grid")))
    for k in ("seed", "sampler_seed"):
        if k in block:
            if not (_is_int(block[k]) and block[k] >= 0):
                raise ctx.error(f"lr_search.{k}", f"value {block[k]!r} is out of range", "an integer >= 0")
            out[k] = block[k]
    settings = LRSearchSettings(**out)
    if settings.low >= settings.high:
        raise ctx.error("lr_search", f"low ({settings.low}) must be < high ({settings.high})")
    if settings.space == "grid" and not settings.values():
        raise ctx.error("lr_search.grid", f"no grid value within [{settings.low}, {settings.high}]")
    return settings


def _parse_adaptive(ctx: _Ctx, value: Any):
    from suite.sweep.adaptive_spec import AdaptiveSpecError, parse_adaptive

    try:
        return parse_adaptive(value)
    except AdaptiveSpecError as exc:
        raise ctx.error(exc.key, exc.problem, exc.allowed) from None


def parse_spec(raw: Any, path: str, default_name: str = "adhoc", max_trials: int = DEFAULT_MAX_TRIALS) -> Spec:
    """Validate a loaded YAML document into a `Spec` (raises SpecError)."""
    from suite.core.data import DATASETS
    from suite.core.models import MODELS

    ctx = _Ctx(path, check_max_trials(max_trials))
    if not isinstance(raw, dict):
        raise ctx.error("", f"a sweep spec must be a YAML mapping, got {type(raw).__name__}",
                        ", ".join(TOP_KEYS))
    ctx.check_keys(raw, TOP_KEYS, "")
    plugins = raw.get("plugins") or []
    if not (isinstance(plugins, list) and all(isinstance(p, str) for p in plugins)):
        raise ctx.error("plugins", f"must be a list of module names, got {plugins!r}")
    for module in plugins:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any import failure is a spec error
            raise ctx.error("plugins", f"cannot import {module!r}: {exc}") from exc
    for k in REQUIRED_TOP:
        if k not in raw:
            raise ctx.error(k, "missing", f"a spec needs {', '.join(REQUIRED_TOP)}")
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
    ctx.check_keys(train, TRAIN_KEYS, "train")
    checked_train = {k: _scalar(ctx, v, k, f"train.{k}") for k, v in train.items()}
    checked_train.pop("optimizer", None)  # only SGD exists; checked above

    seeds = raw.get("seeds", [0])
    seeds = seeds if isinstance(seeds, list) else [seeds]
    if not seeds or not all(_is_int(s) and s >= 0 for s in seeds):
        raise ctx.error("seeds", f"value {raw.get('seeds')!r} is not allowed", "a non-empty list of integers >= 0")
    if len(set(seeds)) != len(seeds):
        raise ctx.error("seeds", f"duplicate seeds in {seeds}")

    methods_raw = raw["methods"]
    if not isinstance(methods_raw, dict) or not methods_raw:
        from suite.methods.base import METHODS
        raise ctx.error("methods", "must be a non-empty mapping of method name -> grid", ", ".join(sorted(METHODS)))
    blocks = tuple(_parse_method(ctx, str(m), b) for m, b in methods_raw.items())

    resources = ctx.mapping(raw.get("resources"), "resources")
    ctx.check_keys(resources, RESOURCE_KEYS, "resources")
    for k, v in resources.items():
        if not (_is_number(v) and (v > 0 if k == "cpus_per_trial" else v >= 0)):
            raise ctx.error(f"resources.{k}", f"value {v!r} is out of range",
                            "a number > 0" if k == "cpus_per_trial" else "a number >= 0 (fractions share a GPU)")
    description = raw.get("description", "")
    spec = Spec(
        name=name, path=path, model=raw["model"], dataset=raw["dataset"],
        train=tuple(sorted(checked_train.items())), seeds=tuple(seeds), methods=blocks,
        cpus_per_trial=float(resources.get("cpus_per_trial", 1.0)),
        gpus_per_trial=float(resources.get("gpus_per_trial", 0.0)),
        lr_search=_parse_lr_search(ctx, raw.get("lr_search")), plugins=tuple(plugins),
        description=str(description or ""),
        adaptive=_parse_adaptive(ctx, raw["adaptive"]) if "adaptive" in raw else None,
    )
    # Count the trials first (cheap), then build every trial once, so a bad
    # combination fails before anything runs.
    check_count(ctx, count_trials(spec), "", what="trials")
    expand(spec, lrs=None, placeholder_lr=True)
    return spec


def load_spec(name_or_path: str | Path, max_trials: int = DEFAULT_MAX_TRIALS) -> Spec:
    """Load and validate `sweeps/NAME.yaml` or a YAML file at a path (at most `max_trials` trials)."""
    path = resolve_spec_path(name_or_path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc}") from exc
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {exc}") from exc
    return parse_spec(raw, str(path), default_name=path.stem, max_trials=max_trials)


# --------------------------------------------------------------------------- overrides


def apply_overrides(spec: Spec, *, epochs: int | None = None, seeds: Sequence[int] | None = None,
                    methods: Sequence[str] | None = None, max_grid: int | None = None,
                    lr_budget: int | None = None, cpus_per_trial: float | None = None,
                    gpus_per_trial: float | None = None) -> Spec:
    """The spec with quick-run overrides applied (CLI flags)."""
    changes: dict[str, Any] = {}
    blocks = list(spec.methods)
    if methods:
        unknown = [m for m in methods if m not in spec.method_names]
        if unknown:
            raise SpecError(f"--methods: {unknown} not in sweep {spec.name!r}; allowed: {', '.join(spec.method_names)}")
        blocks = [b for b in blocks if b.name in methods]
    if epochs is not None:
        if not (_is_int(epochs) and epochs >= 1):
            raise SpecError(f"--epochs: {epochs!r} is out of range; allowed: an integer >= 1")
        # GMP's retraining is capped at the same count, so a quick look stays a
        # quick look and GMP gets no more epochs than the methods it is compared with.
        train = {**dict(spec.train), "epochs": epochs}
        if "finetune_epochs" in train:
            train["finetune_epochs"] = min(train["finetune_epochs"], epochs)
        changes["train"] = tuple(sorted(train.items()))
        blocks = [dataclasses.replace(b, axes=tuple(
            (k, tuple(dict.fromkeys(min(x, epochs) for x in v)) if k == "finetune_epochs" else v)
            for k, v in b.axes if k != "epochs")) for b in blocks]
    if seeds is not None:
        seeds = list(seeds)
        if not seeds or not all(_is_int(s) and s >= 0 for s in seeds) or len(set(seeds)) != len(seeds):
            raise SpecError(f"--seeds: {seeds!r} is not allowed; allowed: distinct integers >= 0, e.g. 0,1")
        changes["seeds"] = tuple(seeds)
    if max_grid is not None:
        if not (_is_int(max_grid) and max_grid >= 1):
            raise SpecError(f"--max-grid: {max_grid!r} is out of range; allowed: an integer >= 1")
        capped = []
        for b in blocks:
            axes = []
            for k, v in b.axes:
                if k == "lam":
                    v = tuple(cap_grid(v, max_grid))
                elif k == "compressions":
                    v = tuple((c,) for c in cap_grid([c[0] for c in v], max_grid))
                axes.append((k, v))
            capped.append(dataclasses.replace(b, axes=tuple(axes), targets=tuple(cap_grid(b.targets, max_grid))))
        blocks = capped
    if lr_budget is not None:
        if not (_is_int(lr_budget) and lr_budget >= 1):
            raise SpecError(f"--lr-budget: {lr_budget!r} is out of range; allowed: an integer >= 1")
        changes["lr_search"] = dataclasses.replace(spec.lr_search, budget=lr_budget)
    if cpus_per_trial is not None:
        if not cpus_per_trial > 0:
            raise SpecError(f"--cpus-per-trial: {cpus_per_trial!r} is out of range; allowed: a number > 0")
        changes["cpus_per_trial"] = float(cpus_per_trial)
    if gpus_per_trial is not None:
        if not gpus_per_trial >= 0:
            raise SpecError(f"--gpus-per-trial: {gpus_per_trial!r} is out of range; allowed: a number >= 0")
        changes["gpus_per_trial"] = float(gpus_per_trial)
    return dataclasses.replace(spec, methods=tuple(blocks), **changes)


# --------------------------------------------------------------------------- expansion


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
    try:
        return TrialConfig(**fields)
    except ConfigError as exc:
        raise SpecError(f"{spec.path}: key 'methods.{block.name}': {exc}") from exc


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
            from suite.methods.base import METHODS
            base = dict(fields)
            base.pop("lr")
            if "lam" in METHODS[block.name].requires or "lam" in base:
                base["lam"] = settings.lam
            base["sweep"] = f"{spec.name}/lr_search"
            probe = _make(spec, block, {**base, "lr": 1.0})
            payload = {k: v for k, v in probe.to_dict().items() if k not in ("lr", "sweep")}
            payload["lr_search"] = settings.describe()
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=list).encode()).hexdigest()[:10]
            depth = base.get("depth")
            key = f"{block.name}" + (f"_D{depth}" if depth is not None else "") + f"_{digest}"
            out.setdefault(key, LRSearch(key, block.name, depth, tuple(sorted(base.items())), settings))
    return list(out.values())


def _search_key_for(spec: Spec, block: MethodBlock, combo: dict, searches: dict[tuple, str]) -> str:
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
                    key = _search_key_for(spec, block, combo, searches)
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


def summarize(spec: Spec) -> list[tuple[str, int]]:
    """(method, number of trials) for a plan printout."""
    trials = expand(spec, placeholder_lr=True)
    counts: dict[str, int] = {}
    for cfg in trials:
        counts[cfg.method] = counts.get(cfg.method, 0) + 1
    return list(counts.items())


def check_max_trials(max_trials: Any) -> int:
    if not (_is_int(max_trials) and max_trials >= 1):
        raise SpecError(f"--max-trials: {max_trials!r} is out of range; allowed: an integer >= 1")
    return max_trials


def check_count(ctx: _Ctx, n: int, key: str, what: str = "values") -> None:
    """SpecError if a grid axis or the whole spec has more than the limit (counted, not built)."""
    if n > ctx.max_trials:
        raise ctx.error(key, f"{n:,} {what} exceed the limit of {ctx.max_trials:,} trials per spec",
                        f"at most {ctx.max_trials:,}, or raise the limit with --max-trials N")


def count_trials(spec: Spec) -> int:
    """How many trials the spec has, from the axis lengths, without building them."""
    return len(spec.seeds) * sum(math.prod(len(v) for _, v in block.axes) for block in spec.methods)


def import_plugins(modules: Sequence[str]) -> None:
    for module in modules:
        importlib.import_module(module)


__all__ = [
    "AUTO", "DEFAULT_MAX_TRIALS", "LRSearch", "LRSearchSettings", "MethodBlock", "Spec", "SpecError", "apply_overrides",
    "available_sweeps", "cap_grid", "count_trials", "expand", "load_spec", "logspace", "lr_searches", "parse_spec",
    "resolve_spec_path", "round_sig", "summarize",
]
