"""Checking a spec's values: error context, config-field values, grid axes, size limits.

What a key accepts comes from the field metadata (suite.config): a spec key
is a shared config field's name, the singular of a list field (`compression`
sets one target of `compressions`), or a registered method's own parameter
(GMP's `finetune_epochs`, a plugin's knob). The keys are read off the
registered methods when a spec is checked, after its plugins are imported.
"""

from __future__ import annotations

from typing import Any, Sequence

from suite.config import FIELDS, PARAMS, is_integer, is_number, known_fields, param_fields
from suite.fields import FieldInfo, info_of
from suite.grid import linspace, logspace
from suite.sweep.spec import SpecError

# Only SGD exists; the key is accepted so that a spec states its optimizer as the paper does.
OPTIMIZERS = ("sgd",)


def field_of_key(key: str) -> str:
    """Spec key -> config field (a shared one, or a method's own parameter)."""
    return next((name for name, info in FIELDS.items() if info.singular == key), key)


def key_info(key: str) -> FieldInfo:
    return known_fields()[field_of_key(key)]


def method_keys(method: str | None = None) -> tuple[str, ...]:
    """The keys a method block may set (as a value or a grid axis): the shared sweepable fields and the
    method's own sweepable parameters (every registered method's, for None)."""
    own = known_fields() if method is None else {n: info_of(f) for n, f in param_fields(PARAMS[method]).items()}
    shared = [FIELDS[n].singular or n for n in FIELDS if FIELDS[n].sweepable]
    return tuple(sorted({*shared, *(n for n, info in own.items() if info.sweepable and n not in FIELDS)}))


def train_keys() -> tuple[str, ...]:
    """The `train:` keys: what a spec sets for every method of it (a method parameter there suits a spec
    whose methods all have it, as a spec of DWF depths and its init)."""
    return tuple(n for n, info in known_fields().items() if info.protocol) + ("optimizer",)


class SpecContext:
    """Error context: the file, and the grid-size limit values are counted against."""

    def __init__(self, path: str, max_trials: int):
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

    def count(self, n: int, key: str, what: str = "values") -> None:
        """SpecError if a grid axis or the whole spec has more than the limit (counted, not built)."""
        if n > self.max_trials:
            raise self.error(key, f"{n:,} {what} exceed the limit of {self.max_trials:,} trials per spec",
                             f"at most {self.max_trials:,}, or raise the limit with --max-trials N")


def check_max_trials(max_trials: Any) -> int:
    if not (is_integer(max_trials) and max_trials >= 1):
        raise SpecError(f"--max-trials: {max_trials!r} is out of range; allowed: an integer >= 1")
    return max_trials


def axis_sort_key(key: str) -> tuple:
    """Ranked axes first (slowest-varying), then the rest by name."""
    rank = key_info(key).axis_rank
    return (rank is None, rank or 0, key)


def check_value(ctx: SpecContext, value: Any, key: str, where: str) -> Any:
    """One value of spec key `key`, checked and normalized by its config field's rule."""
    if key == "optimizer":
        if value not in OPTIMIZERS:
            raise ctx.error(where, f"value {value!r} is out of range", ", ".join(repr(o) for o in OPTIMIZERS))
        return value
    info = key_info(key)
    one_item = info.singular == key
    candidate = (value,) if one_item else value
    if not info.accepts(candidate):
        raise ctx.error(where, f"value {value!r} is out of range", info.allowed)
    normalized = info.normalize(candidate)
    return normalized[0] if one_item else normalized


def check_values(ctx: SpecContext, value: Any, key: str, where: str) -> list:
    """A scalar, a list, or {logspace|linspace: [lo, hi, n]} -> list of checked values."""
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in ("logspace", "linspace"):
            raise ctx.error(where, f"a mapping here must be {{logspace: [lo, hi, n]}} or {{linspace: [lo, hi, n]}}, "
                                   f"got {value!r}",
                            "a value, a list, {logspace: [lo, hi, n]}, {linspace: [lo, hi, n]}")
        kind, args = next(iter(value.items()))
        if not (isinstance(args, list) and len(args) == 3 and is_number(args[0]) and is_number(args[1])
                and is_integer(args[2]) and args[2] >= 1):
            raise ctx.error(f"{where}.{kind}",
                            f"must be [lo, hi, n] with numbers lo, hi and an integer n >= 1, got {args!r}")
        lo, hi, n = args
        ctx.count(n, f"{where}.{kind}")  # before the values are made: n may be 10^8
        if kind == "logspace" and (lo <= 0 or hi <= 0):
            raise ctx.error(f"{where}.{kind}", f"bounds must be > 0, got [{lo}, {hi}]")
        values = logspace(lo, hi, n) if kind == "logspace" else linspace(lo, hi, n)
        return [check_value(ctx, v, key, f"{where}.{kind}") for v in values]
    if isinstance(value, list):
        if not value:
            raise ctx.error(where, "empty list", "a non-empty list")
        ctx.count(len(value), where)
        return [check_value(ctx, v, key, f"{where}[{i}]") for i, v in enumerate(value)]
    return [check_value(ctx, value, key, where)]

