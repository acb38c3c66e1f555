"""Whether a config can train: the checks that need the registries.

`TrialConfig` checks each field on its own (suite.config). What only the
registries know -- that the model, dataset and method exist, which fields a
method requires, how many compression targets it takes, its own rules
(`Method.validate`, e.g. PILoT's schedules, GMP's retraining) -- is checked
here, by the one function every consumer calls before training: sweep
expansion, `bench run` and `run_trial`.
"""

from __future__ import annotations

import functools

import torch

from suite.config import DEFAULTS, DWF_INIT_FIELDS, ConfigError, TrialConfig
from suite.core.data import DATASETS
from suite.core.dwf import prunable_layers, truncation_bounds
from suite.core.models import MODELS, build_model
from suite.methods import METHODS


def validate_trial(cfg: TrialConfig) -> None:
    """Raise ConfigError, naming the field and what is allowed, unless `cfg` can train."""

    def check(ok: bool, name: str, allowed: str) -> None:
        if not ok:
            raise ConfigError(f"config field {name!r} = {getattr(cfg, name)!r} is not allowed; allowed: {allowed}")

    check(cfg.model in MODELS, "model", str(sorted(MODELS)))
    check(cfg.dataset in DATASETS, "dataset", str(sorted(DATASETS)))
    check(cfg.method in METHODS, "method", str(sorted(METHODS)))
    method = METHODS[cfg.method]
    for name in sorted(method.requires):
        check(getattr(cfg, name) not in (None, ()), name, f"a value (method {cfg.method!r} requires it)")
    if method.compressions == "one":
        check(len(cfg.compressions) == 1, "compressions", f"exactly one target for method {cfg.method!r}")
    if method.compressions == "none":
        check(len(cfg.compressions) == 0, "compressions", f"none for method {cfg.method!r}")
    if method.uses_depth:
        check(cfg.depth is not None, "depth", f"an integer >= 2 (method {cfg.method!r} requires it)")
    else:
        check(cfg.depth is None, "depth", f"null for method {cfg.method!r}")
    # A field the method does not read must keep its default: a value there would change the config
    # hash and nothing else (and a dense trial with `finetune_epochs` would not be GMP's dense reference).
    ignored = set(method.ignores) | ({"lam"} - method.requires) | (set() if method.dense_start else {"finetune_epochs"})
    ignored |= set() if method.scores_on_data else {"snip_examples"}
    ignored |= set() if method.factorized else DWF_INIT_FIELDS  # no factors, so no factor init
    for name in sorted(ignored):
        default = DEFAULTS[name]
        check(getattr(cfg, name) == default, name, f"{default!r}, its default: method {cfg.method!r} does not read it "
              "(in a sweep spec, set it in the block of a method that does)")
    if method.validate:
        method.validate(cfg)
    _check_fits(cfg.model, cfg.dataset)
    if method.factorized and method.uses_depth:  # DWF's init (Algorithm 1); spred draws untruncated factors
        _check_init_bounds(cfg.model, cfg.dataset, cfg.depth or method.fixed_depth, cfg.omega_min, cfg.omega_max,
                           cfg.base_init)


@functools.lru_cache(maxsize=256)
def _check_fits(model: str, dataset: str) -> None:
    """ConfigError unless the model takes the dataset's inputs (vgg16 on 28x28 images pools them away): one
    forward pass of shapes only, on the meta device, so nothing is computed or allocated."""
    spec = DATASETS.get(dataset)
    try:
        with torch.device("meta"):
            network = build_model(model, spec.num_classes, spec.input_shape)
            network(torch.empty(2, *spec.input_shape))
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"config field 'model' = {model!r} does not take dataset {dataset!r}'s "
                          f"{'x'.join(map(str, spec.input_shape))} inputs ({str(exc).splitlines()[0][:160]}); "
                          "allowed: a model built for that input shape (`bench list`)") from None


@functools.lru_cache(maxsize=256)
def _check_init_bounds(model: str, dataset: str, depth: int, omega_min, omega_max: str, base_init: str) -> None:
    """ConfigError unless Algorithm 1's truncation interval is open in every layer (an omega_min above a
    layer's upper bound left nothing to sample): checked on the model's fan-ins, before any training."""
    spec = DATASETS.get(dataset)
    with torch.device("meta"):
        network = build_model(model, spec.num_classes, spec.input_shape)
    for name, layer in prunable_layers(network):
        fan_in = layer.weight[0].numel()
        sigma_w = (2.0 / fan_in if base_init == "kaiming" else 1.0 / fan_in) ** 0.5
        try:
            truncation_bounds(sigma_w, depth, omega_min, omega_max)
        except ValueError as exc:
            raise ConfigError(f"config field 'omega_min' = {omega_min!r} is not allowed for {model} at depth {depth}: "
                              f"layer {name}: {exc}; allowed: a factor bound below every layer's upper bound") from None
