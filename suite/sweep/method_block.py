"""One method's block of a spec -> `MethodBlock` (its grid axes, targets, per-depth lrs).

Rules:

* A list is a grid axis; `{logspace: [lo, hi, n]}` / `{linspace: [lo, hi, n]}`
  expand to n values (rounded to 6 significant digits, so hashes are stable).
* `compression` is an axis (one trial per target) for the methods that prune
  to one target (`compressions == "one"`: GMP, SNIP, SynFlow, random); for
  gmp_oneshot (`"many"`) and the
  post-hoc ladders (`"optional"`) all targets go into one trial.
* `lr` may be a number, a list, `auto`, or a per-depth mapping
  `{2: 0.5, 3: auto}` (methods with a depth grid). `auto` learning rates are
  searched (Optuna inside Ray Tune, suite.run) before the grid.
"""

from __future__ import annotations

from typing import Any

from suite.config import FIELDS, is_integer
from suite.builtins import METHODS
from suite.methods.base import Targets
from suite.sweep.checks import SpecContext, axis_sort_key, check_value, check_values, method_keys
from suite.sweep.spec import AUTO, MethodBlock

# The spec key of the config's `compressions` (one target per item).
COMPRESSION_KEY = FIELDS["compressions"].singular


def _lr_value(ctx: SpecContext, value: Any, where: str) -> Any:
    return AUTO if value == AUTO else check_value(ctx, value, "lr", where)


def _check_shape(ctx: SpecContext, name: str, block: dict, key: str) -> None:
    """The keys the method takes and requires, before any value is read."""
    method = METHODS[name]
    ctx.check_keys(block, method_keys(name), key)
    if "depth" in block and not method.uses_depth:
        fixed = f" (it fixes D = {method.fixed_depth})" if method.fixed_depth else ""
        raise ctx.error(f"{key}.depth", f"method {name!r} takes no depth{fixed}",
                        "depth only for " + ", ".join(m.name for m in METHODS.values() if m.uses_depth))
    needed = {FIELDS[f].singular or f for f in method.requires}
    if method.needs_targets:
        needed.add(COMPRESSION_KEY)
    for required in sorted(needed):
        if required not in block:
            raise ctx.error(f"{key}.{required}", f"missing: method {name!r} requires {sorted(needed)}")
    if COMPRESSION_KEY in block and method.compressions is Targets.NONE:
        raise ctx.error(f"{key}.{COMPRESSION_KEY}", f"method {name!r} takes no compression targets")


def _per_depth_lrs(ctx: SpecContext, name: str, value: dict, where: str) -> dict[int, Any]:
    if not METHODS[name].uses_depth:
        raise ctx.error(where, f"a per-depth lr mapping needs a method with a depth grid; {name!r} has none",
                        "a number, a list, 'auto'")
    out: dict[int, Any] = {}
    for d, lr in value.items():
        depth = int(d) if isinstance(d, str) and d.isdigit() else d
        if not (is_integer(depth) and depth >= 2):
            raise ctx.error(f"{where}.{d}", "per-depth lr keys must be depths", "integers >= 2")
        out[depth] = _lr_value(ctx, lr, f"{where}.{d}")
    return out


def parse_method_block(ctx: SpecContext, name: str, block: Any) -> MethodBlock:
    key = f"methods.{name}"
    if name not in METHODS:
        raise ctx.error(key, f"unknown method {name!r}", ", ".join(sorted(METHODS)))
    method = METHODS[name]
    block = ctx.mapping(block, key)
    _check_shape(ctx, name, block, key)

    axes: list[tuple[str, tuple]] = []
    targets: tuple[float, ...] = ()
    lr_by_depth: dict[int, Any] = {}
    for k in sorted(block, key=axis_sort_key):
        value, where = block[k], f"{key}.{k}"
        if k == COMPRESSION_KEY:
            values = check_values(ctx, value, k, where)
            if method.compressions is Targets.ONE:
                axes.append(("compressions", tuple((v,) for v in values)))
            else:
                targets = tuple(values)
        elif k == "lr" and isinstance(value, dict) and not set(value) & {"logspace", "linspace"}:
            lr_by_depth = _per_depth_lrs(ctx, name, value, where)
        elif k == "lr" and value == AUTO:
            axes.append(("lr", (AUTO,)))
        else:
            axes.append((k, tuple(check_values(ctx, value, k, where))))
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
    if any(v == AUTO for v in lr_by_depth.values()) or ("lr", (AUTO,)) in axes:
        if method.needs_targets:
            raise ctx.error(f"{key}.lr", f"'auto' is not supported for method {name!r}",
                            "'auto' for methods without compression targets")
    return MethodBlock(name, tuple(axes), targets, tuple(sorted(lr_by_depth.items())))
