"""The types of a validated sweep spec (YAML -> `Spec` -> `list[TrialConfig]`).

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

The package, step by step: `loading` (the file and its YAML) -> `parsing`
(validation into a `Spec`, with `checks` and `method_block`) -> `overrides`
(quick-run flags) -> `expansion` (the TrialConfigs and lr searches). It knows
nothing of Ray; `suite.run` runs what `expand` returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from suite.config import TrialConfig

AUTO = "auto"
# The paper's discrete LR grid between 0.05 and 1 (App. G.2).
DEFAULT_LR_GRID = (0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
DEFAULT_LR_BUDGET = 8
# A spec with more trials is refused before it is built (--max-trials raises the
# limit): a typo such as n = 10^8 in a logspace must not run for minutes or exhaust memory.
DEFAULT_MAX_TRIALS = 20_000


class SpecError(ValueError):
    """A sweep spec is invalid; the message names the file, the key and what is allowed."""


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
    """One method's part of a spec, validated; `axes` are grid axes in run order (slowest first)."""

    name: str
    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    # Compression targets of one trial ("many"/"optional"), else ().
    targets: tuple[float, ...] = ()
    # Per-depth learning rates {depth: float | "auto"} (empty: lr is an axis/train key).
    lr_by_depth: tuple[tuple[int, Any], ...] = ()


def check_gpu_share(flag: str, value: Any) -> str | None:
    """Why `value` is not a GPU share Ray accepts (None when it is): a fraction in [0, 1] or a whole number."""
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and value >= 0 and (value <= 1 or float(value).is_integer())):
        return (f"{flag} {value!r}: allowed: auto (in a spec), a number in [0, 1] (a share of one GPU; 0 keeps "
                f"every trial on the CPU) or a whole number of GPUs")
    return None


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
    # None: auto, the share suite/run/cluster/gpu_share.py packs onto the GPUs Ray sees (0 where there are none)
    gpus_per_trial: float | None = None
    lr_search: LRSearchSettings = LRSearchSettings()
    plugins: tuple[str, ...] = ()
    description: str = ""
    # suite.sweep.adaptive_spec.AdaptiveSettings of the `adaptive` key (None: not given; defaults apply)
    adaptive: Any = None
    # suite.sweep.paper_spec.PaperValues of the `paper` key: the published numbers reports compare with
    paper: Any = None
    # (tracker, target) pairs of `bench sweep --log-to` (suite.run.ray.trackers); not part of any trial
    trackers: tuple = ()

    @property
    def method_names(self) -> list[str]:
        return [m.name for m in self.methods]

    def method(self, name: str) -> MethodBlock:
        return next(m for m in self.methods if m.name == name)

    @property
    def adaptive_settings(self):
        """The adaptive search's settings: the `adaptive` key's, else the defaults (`--adaptive`)."""
        from suite.sweep.adaptive_spec import AdaptiveSettings

        return self.adaptive or AdaptiveSettings()


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
