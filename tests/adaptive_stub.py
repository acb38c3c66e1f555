"""Adaptive ε-search on a synthetic problem with known boundaries (no training), shared by
test_adaptive_search and test_adaptive_plan.

The stub "trains" a config by reading a known curve: for the λ axis the
compression ratio is CR = 10 * (λ / 1e-6) (λ = 1e-4 -> CR 1000), for the
compression axis CR = target; accuracy depends on CR only. Dense is 0.90, so
with the default curve ε = 5 fails above CR 1000 and ε = 10 above CR 10^4.
"""

from __future__ import annotations

import json
import math

from suite.run.search.bisect.plan import AdaptivePlan
from suite.run.search.driving import progress
from suite.sweep.adaptive_spec import AdaptiveSettings
from suite.config import TrialConfig

TOTAL = 10**6
DENSE_ACC = 0.90


def default_curve(cr: float) -> float:
    return DENSE_ACC if cr <= 100 else DENSE_ACC - 0.05 * math.log10(cr / 100)


def cr_of(cfg: TrialConfig) -> float:
    if cfg.method == "dense":
        return 1.0
    if cfg.method == "dwf":
        return 10.0 * cfg.lam / 1e-6
    return cfg.compressions[0]


def stub(curve=default_curve, seed_offset=lambda seed: 0.0, cr=cr_of):
    def train(cfg: TrialConfig) -> list[dict]:
        c = cr(cfg)
        acc = DENSE_ACC if cfg.method == "dense" else curve(c)
        return [{
            "method": cfg.method, "model": cfg.model, "dataset": cfg.dataset, "depth": cfg.depth, "lam": cfg.lam,
            "lr": cfg.lr, "epochs": cfg.epochs, "seed": cfg.seed, "point": "final", "point_id": 0,
            "target_compression": cfg.compressions[0] if cfg.compressions else None, "status": "ok",
            "test_acc": acc + seed_offset(cfg.seed), "compression_ratio": c, "sparsity": 1 - 1 / c,
            "total_params": TOTAL, "config_hash": cfg.config_hash,
            "config_json": json.dumps(cfg.to_dict(), sort_keys=True, default=list),
        }]
    return train


def grid(methods=("dwf",), seeds=(0,)) -> list[TrialConfig]:
    base = {"model": "lenet300", "dataset": "fmnist", "epochs": 1}
    out = []
    for seed in seeds:
        out.append(TrialConfig(method="dense", seed=seed, **base))
        for lam in (1e-6, 1e-1) if "dwf" in methods else ():
            out.append(TrialConfig(method="dwf", depth=3, lam=lam, seed=seed, **base))
        for c in (10.0, 1e5) if "synflow" in methods else ():
            out.append(TrialConfig(method="synflow", compressions=(c,), seed=seed, **base))
    return out


def cells(plan: AdaptivePlan) -> dict[str, dict]:
    return {p["cell"]: p for p in progress(plan)}


def settings(**kw) -> AdaptiveSettings:
    return AdaptiveSettings(**{"tolerance": 0.1, "budget": 20, "eps": (5, 10), "levels": (), **kw})
