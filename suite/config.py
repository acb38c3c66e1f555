"""Typed, frozen trial configuration: the shared protocol, the method's own parameters, and its stable hash.

A `TrialConfig` says everything that determines a trial's scientific result. Where the data lives and which
device runs it do not change the result, so they are passed to `run_trial` separately and are not hashed.

Its fields are the protocol every method shares (model, data, optimizer, schedule, seed, ...), each with a
`FieldInfo` (suite.fields: help, what it accepts, whether a sweep spec may set it, whether it identifies the
trial). A method's own knobs are its `MethodParams` (`params`), declared by the method with the same
metadata; they are given and stored flat beside the shared fields (`TrialConfig(method="gmp",
finetune_epochs=25)`, a spec's `finetune_epochs:`, `--finetune-epochs`), as before methods owned them, so
every stored config, spec and flag reads as it did. That metadata drives the validation here, the keys a
sweep spec may set (suite.sweep), the `bench run` options (suite.cli.run) and the hash. What only the
registries know (that a model or method exists, what a method requires of the shared fields) is checked by
`suite.methods.validation.validate_trial`. This module imports only suite.fields, so anything may import it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from suite.fields import (  # noqa: F401 - re-exported: the names every consumer of a config takes from here
    PARAMS, ConfigError, FieldInfo, MethodParams, baseline_of, check_field, default_of, equals_default, info_of,
    integer, is_integer, is_number, one_of, param_fields, registered_param_infos, setting, to_float,
)

# Numerical zero for collapsed weights: float32 machine epsilon (App. G.2).
FLOAT32_EPS = 1.19e-7


def _to_target_set(values: Any) -> tuple[float, ...]:
    """Targets ascending, each once: every method evaluates them in that order, so (100, 10) and
    (10, 10, 100) are the trial (10, 100), one hash and no duplicate rows."""
    return tuple(sorted({float(v) for v in values}))


def _name(value: object) -> bool:
    return isinstance(value, str) and value != ""


# Stated limits: beyond them a value is a typo, never an experiment. Seeds wrap at 2**32 in numpy and Python.
# D factors hold D copies of every weight; the paper's grid is D = 2..4, and a product of more than about 10
# small factors underflows float32. 10,000 epochs of the smallest network are weeks of CPU; the paper trains 75-200.
MAX_SEED, MAX_DEPTH, MAX_EPOCHS = 2**32 - 1, 10, 10_000


def _ratios(values: object) -> bool:
    return isinstance(values, (list, tuple)) and all(is_number(c) and c > 1 for c in values)


@dataclass(frozen=True, init=False)
class TrialConfig:
    model: str = setting(help="Model name (see `bench list`).", row_column="model", accepts=_name,
                         allowed="a model name")
    dataset: str = setting(help="Dataset name (see `bench list`).", row_column="dataset", accepts=_name,
                           allowed="a dataset name")
    method: str = setting(help="Method name (see `bench list`).", row_column="method", accepts=_name,
                          allowed="a method name")
    seed: int = setting(0, help="Seed for initialization and data order.", replicate=True, row_column="seed",
                        **integer(0, MAX_SEED, " (below 2**32: numpy and Python wrap larger seeds)"))
    epochs: int = setting(75, help="Training epochs.", sweepable=True, protocol=True, row_column="epochs",
                          **integer(1, MAX_EPOCHS))
    batch_size: int = setting(256, help="Mini-batch size.", sweepable=True, protocol=True, **integer(1))
    lr: float = setting(
        0.15, help="Initial learning rate.", sweepable=True, protocol=True, axis_rank=3, row_column="lr",
        accepts=lambda v: is_number(v) and v > 0, allowed="a finite number > 0", convert=to_float)
    momentum: float = setting(
        0.9, help="SGD momentum.", sweepable=True, protocol=True,
        accepts=lambda v: is_number(v) and 0 <= v < 1, allowed="a number in [0, 1)", convert=to_float)
    schedule: str = setting(
        "cosine", help="Learning-rate schedule: cosine annealing per epoch, or constant.", sweepable=True,
        protocol=True, **one_of("cosine", "constant"))
    lam: float | None = setting(
        None, help="Regularization strength: DWF/spred lambda, L1 lambda, PILoT alpha.", sweepable=True, axis_rank=1,
        row_column="lam", accepts=lambda v: v is None or (is_number(v) and 0 <= v <= 100), convert=to_float,
        allowed="null or a number in [0, 100] (above, one SGD step at lr >= 0.01 wipes the weights out)")
    depth: int | None = setting(
        None, help="Factorization depth D of dwf (>= 2); spred is D = 2 by definition.", sweepable=True,
        axis_rank=0, row_column="depth", accepts=lambda v: v is None or (is_integer(v) and 2 <= v <= MAX_DEPTH),
        allowed=f"null or an integer >= 2 and <= {MAX_DEPTH} (deeper products of small factors underflow float32)")
    # Methods that prune to one target (GMP, SNIP, SynFlow, random) take exactly one per trial; gmp_oneshot evaluates
    # every one on the trained dense network; the post-hoc ladders of L1 and PILoT take any number (default if none).
    compressions: tuple[float, ...] = setting(
        (), help="Target compression ratio total/nonzero (repeatable: gmp_oneshot and the L1/PILoT ladders "
                 "evaluate each; GMP, SNIP, SynFlow, random take one).", sweepable=True,
        axis_rank=2, singular="compression", row_column="target_compression", accepts=_ratios,
        allowed="a list of finite ratios total/nonzero > 1", convert=_to_target_set)
    # Default no, as the reference pruners (Synaptic-Flow's SNIP/SynFlow/
    # magnitude) score and prune weights only and leave biases trainable; the
    # paper's own numbers need it (Table 1's DWF D=4 cell of CR 1442 on
    # LeNet-300-100 leaves at most 185 nonzeros, fewer than its 410 biases).
    # DWF factorizes every weight and bias either way (Sec. 3); its biases are
    # just not counted.
    include_bias: bool = setting(
        False, help="Score, prune and count biases too (default: weights only).", sweepable=True, protocol=True,
        flags="--include-bias/--exclude-bias", accepts=lambda v: isinstance(v, bool), allowed="true or false")
    # 0 for the LeNets as in the paper's shared protocol; the CIFAR specs set the cited configurations'.
    weight_decay: float = setting(
        0.0, help="Plain L2 weight decay of the non-factorized parameters (BatchNorm included).", sweepable=True,
        protocol=True, accepts=lambda v: is_number(v) and v >= 0, allowed="a finite number >= 0", convert=to_float)
    # Set from the data by `bench sweep` and `bench run` (suite/core/data/fingerprint.py): a stored trial is
    # done only for the data it trained on, and `run_trial` refuses other data.
    data_fingerprint: str | None = setting(
        None, help="Fingerprint of the data the trial must train on (default: that of the data found).",
        row_column="data_fingerprint", accepts=lambda v: v is None or _name(v), allowed="null or a fingerprint")
    sweep: str = setting(
        "adhoc", help="Sweep name the result is stored under (one path component).", identity=False,
        row_column="sweep", accepts=_name, allowed="a sweep name")

    # The method's own parameters (suite.fields.MethodParams), given and stored flat: see `__init__`.
    params: MethodParams = dataclasses.field(default_factory=MethodParams)

    def __init__(self, params: MethodParams | None = None, **values: Any) -> None:
        """The shared fields by name; the method's own parameters flat by name too (`finetune_epochs=25` for
        gmp), or as `params` (its MethodParams, as `dataclasses.replace` passes it), the flat names winning."""
        shared = {k: v for k, v in values.items() if k in FIELDS}
        missing = [n for n in REQUIRED_FIELDS if n not in shared]
        if missing:
            raise TypeError(f"TrialConfig() missing required field(s) {missing}")
        for name, info in FIELDS.items():
            object.__setattr__(self, name, check_field(name, shared.get(name, DEFAULTS[name]), info))
        flat = {k: v for k, v in values.items() if k not in FIELDS}
        object.__setattr__(self, "params", self._own_params(params, flat))

    def _own_params(self, given: MethodParams | None, flat: dict) -> MethodParams:
        """The method's parameters from `flat` (and `given`), checked by their own fields. A key the
        method has no parameter for is allowed only at the value every stored config carries it at
        (`FLAT_PARAM_DEFAULTS`: a dwf trial stored `finetune_epochs: 0`), and then dropped."""
        if self.method not in PARAMS:
            given = {**(given.values() if given is not None else {}), **flat}
            return UnregisteredParams(tuple(sorted(
                (k, tuple(v) if isinstance(v, list) else v) for k, v in given.items()
                if not (k in FLAT_PARAM_DEFAULTS and equals_default(v, FLAT_PARAM_DEFAULTS[k])))))
        cls = PARAMS[self.method]
        own = param_fields(cls)
        values: dict[str, Any] = {}
        if given is not None:
            values, flat = (given.values(), flat) if type(given) is cls else ({}, {**given.values(), **flat})
        for key, value in flat.items():
            if key in own:
                values[key] = value
            elif key in FLAT_PARAM_DEFAULTS and equals_default(value, FLAT_PARAM_DEFAULTS[key]):
                continue
            else:
                raise _not_a_field_of(self.method, key, value, own)
        return cls(**values).resolved({n: getattr(self, n) for n in FIELDS})

    def to_dict(self) -> dict:
        """Flat, as stored in every row's config_json: the shared fields, the parameters methods once
        shared at the values every config stored them at, and its own parameters away from those values
        (or, for one not among them, from its default): what its hash reads, so that the stored config of
        a method this process has not registered (a plugin not imported) still hashes to its key."""
        return {**{n: getattr(self, n) for n in FIELDS}, **FLAT_PARAM_DEFAULTS, **self._own_identity(all_=True)}

    def __getattr__(self, name: str) -> Any:
        """A method parameter, read flat as it is given and stored flat (`cfg.finetune_epochs` of gmp)."""
        own = self.__dict__.get("params")
        if own is not None and name in own.values():
            return own.values()[name]
        raise AttributeError(f"{type(self).__name__} of method {self.__dict__.get('method')!r} has no field {name!r}")

    @classmethod
    def from_dict(cls, values: dict) -> "TrialConfig":
        return cls(**values)

    def identity(self) -> dict:
        """The fields that identify the trial: those that differ from their
        defaults, less those that only file the result (`sweep`); a method
        parameter enters away from the value the hash leaves it out at (its
        `stored_default`, else its default).

        As in open_lth, a new field with a default leaves every stored trial's
        identity (and hash) as it was, so an upgrade retrains nothing."""
        shared = {n: getattr(self, n) for n, info in FIELDS.items()
                  if info.identity and not equals_default(getattr(self, n), DEFAULTS[n])}
        return {**shared, **self._own_identity()}

    def _own_identity(self, all_: bool = False) -> dict:
        """The method's parameters away from their hash baselines (with `all_`, also those that do not
        identify a trial)."""
        if isinstance(self.params, UnregisteredParams):
            return self.params.values()
        return {f.name: getattr(self.params, f.name) for f in dataclasses.fields(self.params)
                if (all_ or info_of(f).identity) and not equals_default(getattr(self.params, f.name), baseline_of(f))}

    @property
    def config_hash(self) -> str:
        """Stable across runs, key order and new defaulted fields: sha256 of the
        canonical JSON of `identity()`, 16 hex."""
        text = json.dumps(self.identity(), sort_keys=True, default=list, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _not_a_field_of(method: str, key: str, value: Any, own: dict) -> ConfigError:
    owners = sorted(m for m, p in PARAMS.items() if key in param_fields(p))
    if not owners and key not in FLAT_PARAM_DEFAULTS:
        return ConfigError(f"unknown config field(s) [{key!r}]; allowed: {sorted([*FIELDS, *own])} "
                           f"(method {method!r}'s own: {sorted(own)})")
    baseline = FLAT_PARAM_DEFAULTS[key] if key in FLAT_PARAM_DEFAULTS else _baseline(key)
    return ConfigError(f"config field {key!r} = {value!r} is not allowed; allowed: {baseline!r}, its default: "
                       f"method {method!r} does not read it (in a sweep spec, set it in the block of a method "
                       f"that does: {', '.join(owners) or 'none registered'})")


@dataclass(frozen=True)
class UnregisteredParams(MethodParams):
    """The parameters of a method this process has not registered (a plugin not imported, whose stored
    rows are still read and checked), kept as given, flat, less those at the values every config stored
    them at. They hash as the registered method's do: a stored config carries its own parameters only away
    from their baselines (`to_dict`). A config holding them does not train (`validate_trial`)."""

    given: tuple = ()

    def __post_init__(self) -> None:
        pass

    def values(self) -> dict[str, Any]:
        return dict(self.given)


# The shared fields, in declaration order, with their metadata.
FIELDS: dict[str, FieldInfo] = {f.name: info_of(f) for f in dataclasses.fields(TrialConfig) if "bench" in f.metadata}
DEFAULTS: dict[str, Any] = {f.name: default_of(f) for f in dataclasses.fields(TrialConfig) if f.name in FIELDS}
REQUIRED_FIELDS: tuple[str, ...] = tuple(n for n, d in DEFAULTS.items() if d is dataclasses.MISSING)
IDENTITY_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.identity)
SWEEPABLE_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.sweepable)
PROTOCOL_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.protocol)
# What only files a result (the sweep name): left out of the hash and of every comparison of trials.
NON_IDENTITY_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if not info.identity)
REPLICATE_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.replicate)
ROW_COLUMN_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.row_column)

# Parameters of single methods that were fields of every config until methods owned them (issue 26), at the
# values every other method's stored config carries them at. `to_dict` writes them flat into each config,
# so a row's config_json, the lr-search keys digested from it (suite.sweep.expansion) and the reports'
# settings keys read as they did; the owning method's own declaration must leave them out of the hash at the
# same value (tests/test_methods.py checks it).
FLAT_PARAM_DEFAULTS: dict[str, Any] = {
    "omega_min": None, "omega_max": "product", "base_init": "kaiming", "finetune_epochs": 0, "snip_examples": 0,
    "pilot_schedule": "budget", "pilot_budget": 0.1,
}


def known_fields() -> dict[str, FieldInfo]:
    """The shared fields and every registered method's own, by name: what a spec key or flag may name."""
    return {**FIELDS, **registered_param_infos()}


def _baseline(name: str) -> Any:
    for params in PARAMS.values():
        if name in param_fields(params):
            return baseline_of(param_fields(params)[name])
    return dataclasses.MISSING


def at_default(name: str, value: Any) -> bool:
    """Whether `value` is field `name`'s default, held by a config or read from stored JSON (where a
    list stands for a tuple). Such a field says nothing about a trial: the report's settings and the
    lr-search key leave it out, as the hash does (`identity`, by the same rule against each field's own
    default, stored default for a method parameter): a field added later leaves older trials as they were."""
    if name in DEFAULTS:
        return equals_default(value, DEFAULTS[name])
    if name in FLAT_PARAM_DEFAULTS:
        return equals_default(value, FLAT_PARAM_DEFAULTS[name])
    baseline = _baseline(name)
    return baseline is not dataclasses.MISSING and equals_default(value, baseline)


def field_info(name: str) -> FieldInfo:
    known = known_fields()
    if name not in known:
        raise ConfigError(f"unknown config field {name!r}; allowed: {sorted(known)}")
    return known[name]
