"""Typed, frozen trial configuration and its stable hash.

A `TrialConfig` says everything that determines a trial's scientific result.
Where the data lives and which device runs it do not change the result, so
they are passed to `run_trial` separately and are not part of the hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

# Numerical zero for collapsed weights: float32 machine epsilon (App. G.2).
FLOAT32_EPS = 1.19e-7


class ConfigError(ValueError):
    """A configuration value is not allowed; the message names the field."""


@dataclass(frozen=True)
class TrialConfig:
    model: str
    dataset: str
    method: str
    seed: int = 0
    epochs: int = 75
    batch_size: int = 256
    lr: float = 0.15
    momentum: float = 0.9
    schedule: str = "cosine"
    # Regularization strength: DWF/spred lambda, L1 lambda, PILoT alpha.
    lam: float | None = None
    # Factorization depth D for dwf (>= 2); spred is D = 2 by definition.
    depth: int | None = None
    # Target compression ratios (total / nonzero). Prune-at-init methods take
    # exactly one; GMP evaluates every one after a single dense training run.
    compressions: tuple[float, ...] = ()
    # DWF initialization (Alg. 1): lower truncation bound on |factor| and the
    # base ("standard") initialization whose variance the product matches:
    # kaiming (2/fan_in), the standard init of the comparison methods (Table 4
    # note); lecun (1/fan_in) is the case of the paper's exposition. On
    # LeNet-300-100 / F-MNIST kaiming gave the better sparsity-accuracy
    # trade-off (README, fidelity).
    omega_min: float = 3e-3
    base_init: str = "kaiming"
    # Whether biases are factorized / pruned / counted (default: yes, as DWF
    # factorizes every weight and bias of Linear and Conv layers).
    include_bias: bool = True
    finetune_epochs: int = 0
    pilot_schedule: str = "budget"
    # PILoT's L1 budget for ||m * w||_1 as a fraction of its value at init.
    pilot_budget: float = 0.1
    sweep: str = "adhoc"

    def __post_init__(self) -> None:
        # Imported here: the registries import this module.
        from suite.methods import validate_config

        # Validated before it is normalized, so compressions=None is a ConfigError, not a TypeError.
        validate_config(self)
        object.__setattr__(self, "compressions", tuple(float(c) for c in self.compressions))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrialConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s) {unknown}; allowed: {sorted(known)}")
        values = dict(values)
        if "compressions" in values and values["compressions"] is not None:
            values["compressions"] = tuple(values["compressions"])
        return cls(**values)

    @property
    def config_hash(self) -> str:
        """Stable across runs and key order: sha256 of canonical JSON, 16 hex."""
        payload = {k: v for k, v in self.to_dict().items() if k != "sweep"}
        text = json.dumps(payload, sort_keys=True, default=list, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]
