"""Whether a config can train: the checks that need the registries.

`TrialConfig` checks each field on its own (suite.config). What only the
registries know -- that the model, dataset and method exist, which fields a
method requires, how many compression targets it takes, its own rules
(`Method.validate`, e.g. PILoT's schedules, GMP's retraining) -- is checked
here, by the one function every consumer calls before training: sweep
expansion, `bench run` and `run_trial`.
"""

from __future__ import annotations

from suite.config import DEFAULTS, DWF_INIT_FIELDS, ConfigError, TrialConfig
from suite.core.data import DATASETS
from suite.core.models import MODELS
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
