"""Whether a config can train: the checks that need the registries.

`TrialConfig` checks each field on its own, and a method's own parameters by their own declarations
(suite.config). What only the registries know -- that the model, dataset and method exist, which shared
fields a method requires, how many compression targets it takes, its own rules (`Method.validate`, e.g.
PILoT's schedules, DWF's truncation bounds) -- is checked here, by the one function every consumer calls
before training: sweep expansion, `bench run` and `run_trial`. It looks names up in the registries with
every built-in registered (suite.builtins).
"""

from __future__ import annotations

import functools

import torch

from suite.builtins import METHODS
from suite.methods.base import Targets
from suite.config import ConfigError, TrialConfig, UnregisteredParams
from suite.core.data.registry import DATASETS
from suite.core.models.registry import MODELS, build_model


def validate_trial(cfg: TrialConfig) -> None:
    """Raise ConfigError, naming the field and what is allowed, unless `cfg` can train."""

    def check(ok: bool, name: str, allowed: str) -> None:
        if not ok:
            raise ConfigError(f"config field {name!r} = {getattr(cfg, name)!r} is not allowed; allowed: {allowed}")

    check(cfg.model in MODELS, "model", str(sorted(MODELS)))
    check(cfg.dataset in DATASETS, "dataset", str(sorted(DATASETS)))
    check(cfg.method in METHODS, "method", str(sorted(METHODS)))
    method = METHODS[cfg.method]
    if isinstance(cfg.params, UnregisteredParams):
        raise ConfigError(f"config of method {cfg.method!r} was made before the method was registered, so its "
                          "parameters are unchecked; allowed: one made after (TrialConfig.from_dict(cfg.to_dict()))")
    for name in sorted(method.requires):
        check(getattr(cfg, name) not in (None, ()), name, f"a value (method {cfg.method!r} requires it)")
    if method.compressions is Targets.ONE:
        check(len(cfg.compressions) == 1, "compressions", f"exactly one target for method {cfg.method!r}")
    if method.compressions is Targets.NONE:
        check(len(cfg.compressions) == 0, "compressions", f"none for method {cfg.method!r}")
    if method.uses_depth:
        check(cfg.depth is not None, "depth", f"an integer >= 2 (method {cfg.method!r} requires it)")
    else:
        check(cfg.depth is None, "depth", f"null for method {cfg.method!r}")
    # The shared λ is read only by the methods that require it: a value elsewhere would change the config
    # hash and nothing else. (A method's own parameters are its configs' only: suite.config.)
    if "lam" not in method.requires:
        check(cfg.lam is None, "lam", f"None, its default: method {cfg.method!r} does not read it "
              "(in a sweep spec, set it in the block of a method that does)")
    if method.validate:
        method.validate(cfg)
    _check_fits(cfg.model, cfg.dataset)


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
