"""Typed, frozen trial configuration, the metadata of its fields, and its stable hash.

A `TrialConfig` says everything that determines a trial's scientific result. Where the data lives and which
device runs it do not change the result, so they are passed to `run_trial` separately and are not hashed.

Each field carries a `FieldInfo` (its help text, what it accepts, whether a sweep spec may set it, whether it
identifies the trial). That metadata is the one list of fields: it drives the validation here (bounds stated
with their reasons), the keys a sweep spec may set (suite.sweep), the `bench run` options (suite.cli.run) and
the hash. Only what a field accepts on its own is checked here. Whether a model, dataset or method of that name
exists, and what a method requires of the other fields, is for the registries to say:
`suite.methods.validation.validate_trial`. This module imports nothing of the suite, so anything may import it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Callable

# Numerical zero for collapsed weights: float32 machine epsilon (App. G.2).
FLOAT32_EPS = 1.19e-7


class ConfigError(ValueError):
    """A configuration value is not allowed; the message names the field."""


def is_integer(value: object) -> bool:
    """An int; bool is not one (True would train for one epoch)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A real, finite number; bool is not one (True would train with lr = 1)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _to_float(value: Any) -> float | None:
    return None if value is None else float(value)  # one number, one trial: lr=1 and lr=1.0 hash alike


def _to_target_set(values: Any) -> tuple[float, ...]:
    """Targets ascending, each once: every method evaluates them in that order, so (100, 10) and
    (10, 10, 100) are the trial (10, 100), one hash and no duplicate rows."""
    return tuple(sorted({float(v) for v in values}))


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
    # Part of the shared training protocol: a spec's `train:` block may set it for every method.
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
    # Read only by the DWF initialization (a `factorized` method); the other
    # methods ignore it, so it does not tell two of their configurations apart.
    dwf_init: bool = False
    # Repeats one configuration (the seed): reports aggregate over it, and the
    # adaptive search runs every value of it at each candidate point.
    replicate: bool = False
    # A result row carries it in a column of its own, under this name (a GMP
    # trial's target list: one target per row). Reports key configurations on
    # these columns, and on the values of the other fields (`settings`).
    row_column: str | None = None

    def normalize(self, value: Any) -> Any:
        return self.convert(value) if self.convert else value


def setting(default: Any = dataclasses.MISSING, **info: Any) -> Any:
    """A dataclass field with its FieldInfo (under metadata['bench'])."""
    return dataclasses.field(default=default, metadata={"bench": FieldInfo(**info)})


def _name(value: object) -> bool:
    return isinstance(value, str) and value != ""


# The readings of Algorithm 1's upper bound on |factor| (suite.core.dwf.truncation_bounds).
OMEGA_MAX_READINGS = ("product", "factor")


def _one_of(*choices: str) -> dict:
    return {"accepts": lambda v: isinstance(v, str) and v in choices, "allowed": str(list(choices))}


def _integer(minimum: int, maximum: float = math.inf, why: str = "") -> dict:
    allowed = f"an integer >= {minimum}" + ("" if maximum == math.inf else f" and <= {maximum}{why}")
    return {"accepts": lambda v: is_integer(v) and minimum <= v <= maximum, "allowed": allowed}


# Stated limits: beyond them a value is a typo, never an experiment. Seeds wrap at 2**32 in numpy and Python.
# D factors hold D copies of every weight; the paper's grid is D = 2..4, and a product of more than about 10
# small factors underflows float32. 10,000 epochs of the smallest network are weeks of CPU; the paper trains 75-200.
MAX_SEED, MAX_DEPTH, MAX_EPOCHS = 2**32 - 1, 10, 10_000


def _ratios(values: object) -> bool:
    return isinstance(values, (list, tuple)) and all(is_number(c) and c > 1 for c in values)


@dataclass(frozen=True)
class TrialConfig:
    model: str = setting(help="Model name (see `bench list`).", row_column="model", accepts=_name,
                         allowed="a model name")
    dataset: str = setting(help="Dataset name (see `bench list`).", row_column="dataset", accepts=_name,
                           allowed="a dataset name")
    method: str = setting(help="Method name (see `bench list`).", row_column="method", accepts=_name,
                          allowed="a method name")
    seed: int = setting(0, help="Seed for initialization and data order.", replicate=True, row_column="seed",
                        **_integer(0, MAX_SEED, " (below 2**32: numpy and Python wrap larger seeds)"))
    epochs: int = setting(75, help="Training epochs.", sweepable=True, protocol=True, row_column="epochs",
                          **_integer(1, MAX_EPOCHS))
    batch_size: int = setting(256, help="Mini-batch size.", sweepable=True, protocol=True, **_integer(1))
    lr: float = setting(
        0.15, help="Initial learning rate.", sweepable=True, protocol=True, axis_rank=3, row_column="lr",
        accepts=lambda v: is_number(v) and v > 0, allowed="a finite number > 0", convert=_to_float)
    momentum: float = setting(
        0.9, help="SGD momentum.", sweepable=True, protocol=True,
        accepts=lambda v: is_number(v) and 0 <= v < 1, allowed="a number in [0, 1)", convert=_to_float)
    schedule: str = setting(
        "cosine", help="Learning-rate schedule: cosine annealing per epoch, or constant.", sweepable=True,
        protocol=True, **_one_of("cosine", "constant"))
    lam: float | None = setting(
        None, help="Regularization strength: DWF/spred lambda, L1 lambda, PILoT alpha.", sweepable=True, axis_rank=1,
        row_column="lam", accepts=lambda v: v is None or (is_number(v) and 0 <= v <= 100), convert=_to_float,
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
    # None is App. G.2's "omega_min = 3e-3" read as the bound eps on |product|,
    # i.e. (3e-3)^(1/D) per factor (README, fidelity: the reading the data support).
    omega_min: float | None = setting(
        None, help="DWF init: lower bound on |factor| (default: (3e-3)^(1/D), App. G.2's 3e-3 on the product).",
        sweepable=True, protocol=True, dwf_init=True, accepts=lambda v: v is None or (is_number(v) and 0 <= v < 1),
        allowed="null (App. G.2's 3e-3 on the product) or a factor bound in [0, 1)", convert=_to_float)
    # Algorithm 1 caps |factor| at (2 sigma_w)^(1/D), i.e. |product| <= 2 sigma_w: only 1.2-1.4 factor
    # standard deviations, so the product keeps 23-42% of the variance Sec. 4.1 matches (Kaiming, 784
    # inputs) and the min{1, .} cap binds only below 8 inputs. "factor" reads it as 2 sigma_w^(1/D),
    # two factor standard deviations: 0.9-2.3x the matched variance (README, "Decisions ...").
    omega_max: str = setting(
        "product", help="DWF init: upper bound on |factor|: product = (2 sigma_w)^(1/D) (Algorithm 1 as "
        "written), factor = 2 sigma_w^(1/D) (two factor standard deviations).", sweepable=True, protocol=True,
        dwf_init=True, **_one_of(*OMEGA_MAX_READINGS))
    # The base init whose variance the DWF product matches: kaiming (2/fan_in), the comparison methods'
    # (Table 4 note), or lecun (1/fan_in), the paper's exposition's (README, "Decisions").
    base_init: str = setting(
        "kaiming", help="DWF/spred init: base variance, kaiming (2/fan_in) or lecun (1/fan_in).", sweepable=True,
        protocol=True, dwf_init=True, **_one_of("lecun", "kaiming"))
    # Default no, as the reference pruners (Synaptic-Flow's SNIP/SynFlow/
    # magnitude) score and prune weights only and leave biases trainable; the
    # paper's own numbers need it (Table 1's DWF D=4 cell of CR 1442 on
    # LeNet-300-100 leaves at most 185 nonzeros, fewer than its 410 biases).
    # DWF factorizes every weight and bias either way (Sec. 3); its biases are
    # just not counted.
    include_bias: bool = setting(
        False, help="Score, prune and count biases too (default: weights only).", sweepable=True, protocol=True,
        flags="--include-bias/--exclude-bias", accepts=lambda v: isinstance(v, bool), allowed="true or false")
    # Han et al., 2015: train, prune, retrain.
    finetune_epochs: int = setting(
        0, help="gmp: retraining epochs with the mask fixed after pruning (>= 1; gmp_oneshot: 0).", sweepable=True,
        protocol=True, **_integer(0, MAX_EPOCHS))
    # 0: SNIP scores on one batch of the training batch size. Synaptic-Flow's
    # reference SNIP scores on 10 examples per class (100 for 10 classes): the
    # README's fidelity section measures that setting on LeNet-300-100.
    snip_examples: int = setting(
        0, help="snip: training examples its one scoring batch draws (0: the training batch size).",
        sweepable=True, protocol=True, **_integer(0))
    # 0 for the LeNets as in the paper's shared protocol; the CIFAR specs set the cited configurations'.
    weight_decay: float = setting(
        0.0, help="Plain L2 weight decay of the non-factorized parameters (BatchNorm included).", sweepable=True,
        protocol=True, accepts=lambda v: is_number(v) and v >= 0, allowed="a finite number >= 0", convert=_to_float)
    # Which names exist is PILoT's to say (its Method.validate).
    pilot_schedule: str = setting(
        "budget", help="PILoT regularization schedule.", sweepable=True, protocol=True, accepts=_name,
        allowed="a PILoT schedule name")
    pilot_budget: float = setting(
        0.1, help="PILoT's L1 budget for ||m * w||_1 as a fraction of its value at init.", sweepable=True,
        protocol=True, accepts=lambda v: is_number(v) and v > 0, allowed="a finite number > 0", convert=_to_float)
    # Set from the data by `bench sweep` and `bench run` (suite/core/fingerprint.py): a stored trial is
    # done only for the data it trained on, and `run_trial` refuses other data.
    data_fingerprint: str | None = setting(
        None, help="Fingerprint of the data the trial must train on (default: that of the data found).",
        row_column="data_fingerprint", accepts=lambda v: v is None or _name(v), allowed="null or a fingerprint")
    sweep: str = setting(
        "adhoc", help="Sweep name the result is stored under (one path component).", identity=False,
        row_column="sweep", accepts=_name, allowed="a sweep name")

    def __post_init__(self) -> None:
        for name, info in FIELDS.items():
            object.__setattr__(self, name, check_field(name, getattr(self, name), info))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrialConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s) {unknown}; allowed: {sorted(known)}")
        return cls(**values)

    def identity(self) -> dict:
        """The fields that identify the trial: those that differ from their
        defaults, less those that only file the result (`sweep`).

        As in open_lth, a new field with a default leaves every stored trial's
        identity (and hash) as it was, so an upgrade retrains nothing."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if _info(f).identity and not _equals_default(getattr(self, f.name), _default(f))}

    @property
    def config_hash(self) -> str:
        """Stable across runs, key order and new defaulted fields: sha256 of the
        canonical JSON of `identity()`, 16 hex."""
        text = json.dumps(self.identity(), sort_keys=True, default=list, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _info(f: dataclasses.Field) -> FieldInfo:
    return f.metadata["bench"]


def _default(f: dataclasses.Field):
    """The field's default; MISSING (equal to no value) for a required field."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


# The one list of fields, in declaration order, with their metadata.
FIELDS: dict[str, FieldInfo] = {f.name: _info(f) for f in dataclasses.fields(TrialConfig)}
DEFAULTS: dict[str, Any] = {f.name: _default(f) for f in dataclasses.fields(TrialConfig)}
REQUIRED_FIELDS: tuple[str, ...] = tuple(n for n, d in DEFAULTS.items() if d is dataclasses.MISSING)
IDENTITY_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.identity)
SWEEPABLE_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.sweepable)
PROTOCOL_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.protocol)
# What only files a result (the sweep name): left out of the hash and of every comparison of trials.
NON_IDENTITY_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if not info.identity)
REPLICATE_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.replicate)
DWF_INIT_FIELDS: frozenset[str] = frozenset(n for n, info in FIELDS.items() if info.dwf_init)
ROW_COLUMN_FIELDS: tuple[str, ...] = tuple(n for n, info in FIELDS.items() if info.row_column)


def at_default(name: str, value: Any) -> bool:
    """Whether `value` is field `name`'s default, held by a config or read from stored JSON (where a
    list stands for a tuple). Such a field says nothing about a trial: the report's settings and the
    lr-search key leave it out, as the hash does (`identity`, by the same rule against each field's own
    default, so that a subclass's field counts too): a field added later leaves older trials as they were."""
    return name in DEFAULTS and _equals_default(value, DEFAULTS[name])


def _equals_default(value: Any, default: Any) -> bool:
    if isinstance(default, tuple) and isinstance(value, list):
        value = tuple(value)
    return value == default


def check_field(name: str, value: Any, info: FieldInfo | None = None) -> Any:
    """`value` normalized for field `name`, or ConfigError naming the field and what it allows.

    The one validator of a field, whether the value comes from Python, a sweep spec or a flag."""
    info = info or field_info(name)
    if not info.accepts(value):
        raise ConfigError(f"config field {name!r} = {value!r} is not allowed; allowed: {info.allowed}")
    return info.normalize(value)


def field_info(name: str) -> FieldInfo:
    if name not in FIELDS:
        raise ConfigError(f"unknown config field {name!r}; allowed: {sorted(FIELDS)}")
    return FIELDS[name]
