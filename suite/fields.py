"""What a setting is: `FieldInfo`, `setting(...)`, and a method's own parameters (`MethodParams`).

A setting is a dataclass field whose metadata (`FieldInfo`) says what it means, what it accepts, whether a
sweep spec may set it and whether it tells two trials apart. `TrialConfig` (suite.config) declares the shared
protocol with them; each method declares its own knobs the same way, as a frozen `MethodParams` subclass
(GMP's `finetune_epochs`, SNIP's `snip_examples`, a plugin's own), and `METHODS.register` records that class
here under the method's name (`PARAMS`), so a config of that method takes those keys flat, as it always did.
This module imports nothing of the suite, so anything may import it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping


class ConfigError(ValueError):
    """A configuration value is not allowed; the message names the field."""


def is_integer(value: object) -> bool:
    """An int; bool is not one (True would train for one epoch)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A real, finite number; bool is not one (True would train with lr = 1)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def to_float(value: Any) -> float | None:
    return None if value is None else float(value)  # one number, one trial: lr=1 and lr=1.0 hash alike


# `FieldInfo.stored_default` of a field whose hash baseline is its default (every field but a moved one).
AS_DEFAULT = type("AsDefault", (), {"__repr__": lambda self: "AS_DEFAULT"})()


@dataclass(frozen=True)
class FieldInfo:
    """What one config field means and accepts."""

    help: str
    accepts: Callable[[Any], bool]
    # What `accepts` lets through, in words, for error messages.
    allowed: str
    # Normalizes an accepted value (numbers to float, lists to tuples).
    convert: Callable[[Any], Any] | None = None
    # A method block of a sweep spec may set it, as a value or a grid axis.
    sweepable: bool = False
    # A spec's `train:` block may set it for every method in the spec.
    protocol: bool = False
    # Tells two trials apart; False for what only files a result (`sweep`).
    identity: bool = True
    # A list field whose spec key and command-line flag take one item each, under this name.
    singular: str | None = None
    # The command-line flags when the generated `--name` would not do (a bool's off switch).
    flags: str | None = None
    # Grid axes of a method block vary from slowest to fastest in this rank;
    # unranked axes follow by name (the paper's tables read by depth, then λ).
    axis_rank: int | None = None
    # Repeats one configuration (the seed): reports aggregate over it, and the
    # adaptive search runs every value of it at each candidate point.
    replicate: bool = False
    # A result row carries it in a column of its own, under this name (a GMP
    # trial's target list: one target per row). Reports key configurations on
    # these columns, and on the values of the other fields (`settings`).
    row_column: str | None = None
    # The value the config hash leaves out, where it is not the default: a default that moved after trials
    # were stored under the old one (GMP's `finetune_epochs` was 0 for every method then). The hash keeps
    # leaving out what it left out, so no stored trial changes its key.
    stored_default: Any = AS_DEFAULT

    def normalize(self, value: Any) -> Any:
        return self.convert(value) if self.convert else value


def setting(default: Any = dataclasses.MISSING, **info: Any) -> Any:
    """A dataclass field with its FieldInfo (under metadata['bench'])."""
    return dataclasses.field(default=default, metadata={"bench": FieldInfo(**info)})


def info_of(f: dataclasses.Field) -> FieldInfo:
    return f.metadata["bench"]


def default_of(f: dataclasses.Field):
    """The field's default; MISSING (equal to no value) for a required field."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def baseline_of(f: dataclasses.Field):
    """The value the hash leaves the field out at: its stored default, else its default."""
    stored = info_of(f).stored_default
    return default_of(f) if stored is AS_DEFAULT else stored


def equals_default(value: Any, default: Any) -> bool:
    if isinstance(default, tuple) and isinstance(value, list):
        value = tuple(value)
    return value == default


def check_field(name: str, value: Any, info: FieldInfo) -> Any:
    """`value` normalized for field `name`, or ConfigError naming the field and what it allows.

    The one validator of a field, whether the value comes from Python, a sweep spec or a flag."""
    if not info.accepts(value):
        raise ConfigError(f"config field {name!r} = {value!r} is not allowed; allowed: {info.allowed}")
    return info.normalize(value)


def one_of(*choices: str) -> dict:
    return {"accepts": lambda v: isinstance(v, str) and v in choices, "allowed": str(list(choices))}


def integer(minimum: int, maximum: float = math.inf, why: str = "") -> dict:
    allowed = f"an integer >= {minimum}" + ("" if maximum == math.inf else f" and <= {maximum}{why}")
    return {"accepts": lambda v: is_integer(v) and minimum <= v <= maximum, "allowed": allowed}


@dataclass(frozen=True)
class MethodParams:
    """A method's own parameters. Subclass it as a frozen dataclass of `setting(...)` fields:

        @dataclass(frozen=True)
        class SnipParams(MethodParams):
            snip_examples: int = setting(0, help="...", sweepable=True, **integer(0))

    Each field is a key of the method's spec block and a `bench run` option, checked by its own `accepts`;
    like a shared field, it enters the config hash only away from its default (`stored_default`), so a
    knob added later leaves every stored trial's key as it was. The base class is the method with none."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, check_field(f.name, getattr(self, f.name), info_of(f)))

    def resolved(self, shared: Mapping[str, Any]) -> "MethodParams":
        """These parameters with defaults that depend on the shared protocol filled in (GMP's retraining
        epochs follow the training epochs); `shared` is the config's shared fields. Default: as they are."""
        return self

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


# Method name -> the class of its own parameters; `METHODS.register` (suite.methods.base) fills it.
PARAMS: dict[str, type[MethodParams]] = {}


def register_params(method: str, params: type[MethodParams]) -> None:
    if not (isinstance(params, type) and issubclass(params, MethodParams) and dataclasses.is_dataclass(params)):
        raise TypeError(f"method {method!r}: params must be a frozen dataclass subclassing MethodParams, "
                        f"got {params!r}")
    PARAMS[method] = params


def param_fields(params: type[MethodParams]) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(params)}


def registered_param_infos() -> dict[str, FieldInfo]:
    """Every registered method's parameters, by name (one declaration per name: dwf and spred share
    `base_init`, and a name means one thing across methods)."""
    out: dict[str, FieldInfo] = {}
    for params in PARAMS.values():
        for name, f in param_fields(params).items():
            out.setdefault(name, info_of(f))
    return out
