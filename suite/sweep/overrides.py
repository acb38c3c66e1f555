"""Quick-run overrides of a validated spec (the `bench sweep` flags): fewer epochs,
seeds, methods or grid points, another lr-search budget or per-trial resources."""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from suite.config import FIELDS, is_integer
from suite.grid import cap_grid
from suite.limits import cpus_per_trial_problem
from suite.sweep.spec import Spec, SpecError, check_gpu_share


def _check(flag: str, value: Any, ok: bool, allowed: str) -> None:
    if not ok:
        raise SpecError(f"{flag}: {value!r} is out of range; allowed: {allowed}")


def _with_epochs(spec: Spec, blocks: list, epochs: int) -> tuple[dict, list]:
    _check("--epochs", epochs, FIELDS["epochs"].accepts(epochs), FIELDS["epochs"].allowed)
    # GMP's retraining is capped at the same count, so a quick look stays a
    # quick look and GMP gets no more epochs than the methods it is compared with.
    train = {**dict(spec.train), "epochs": epochs}
    if "finetune_epochs" in train:
        train["finetune_epochs"] = min(train["finetune_epochs"], epochs)
    blocks = [dataclasses.replace(b, axes=tuple(
        (k, tuple(dict.fromkeys(min(x, epochs) for x in v)) if k == "finetune_epochs" else v)
        for k, v in b.axes if k != "epochs")) for b in blocks]
    return {"train": tuple(sorted(train.items()))}, blocks


def _capped(blocks: list, max_grid: int) -> list:
    """λ and target grids thinned to `max_grid` values each (ends kept)."""
    capped = []
    for b in blocks:
        axes = []
        for k, v in b.axes:
            if k == "lam":
                v = tuple(cap_grid(v, max_grid))
            elif k == "compressions":
                v = tuple((c,) for c in cap_grid([c[0] for c in v], max_grid))
            axes.append((k, v))
        capped.append(dataclasses.replace(b, axes=tuple(axes), targets=tuple(cap_grid(b.targets, max_grid))))
    return capped


def apply_overrides(spec: Spec, *, epochs: int | None = None, seeds: Sequence[int] | None = None,
                    methods: Sequence[str] | None = None, max_grid: int | None = None,
                    lr_budget: int | None = None, cpus_per_trial: float | None = None,
                    gpus_per_trial: float | None = None) -> Spec:
    """The spec with quick-run overrides applied (CLI flags)."""
    changes: dict[str, Any] = {}
    blocks = list(spec.methods)
    if methods:
        unknown = [m for m in methods if m not in spec.method_names]
        if unknown:
            raise SpecError(f"--methods: {unknown} not in sweep {spec.name!r}; allowed: {', '.join(spec.method_names)}")
        blocks = [b for b in blocks if b.name in methods]
    if epochs is not None:
        train, blocks = _with_epochs(spec, blocks, epochs)
        changes.update(train)
    if seeds is not None:
        seeds = list(seeds)
        if not seeds or not all(FIELDS["seed"].accepts(s) for s in seeds) or len(set(seeds)) != len(seeds):
            raise SpecError(f"--seeds: {seeds!r} is not allowed; allowed: distinct integers, each "
                            f"{FIELDS['seed'].allowed}, e.g. 0,1")
        changes["seeds"] = tuple(seeds)
    if max_grid is not None:
        _check("--max-grid", max_grid, is_integer(max_grid) and max_grid >= 1, "an integer >= 1")
        blocks = _capped(blocks, max_grid)
    if lr_budget is not None:
        _check("--lr-budget", lr_budget, is_integer(lr_budget) and lr_budget >= 1, "an integer >= 1")
        changes["lr_search"] = dataclasses.replace(spec.lr_search, budget=lr_budget)
    if cpus_per_trial is not None:
        problem = cpus_per_trial_problem(cpus_per_trial, "--cpus-per-trial")
        _check("--cpus-per-trial", cpus_per_trial, problem is None, (problem or "").split("allowed: ", 1)[-1])
        changes["cpus_per_trial"] = float(cpus_per_trial)
    if gpus_per_trial is not None:
        problem = check_gpu_share("--gpus-per-trial", gpus_per_trial)
        if problem:
            raise SpecError(problem)
        changes["gpus_per_trial"] = float(gpus_per_trial)
    return dataclasses.replace(spec, methods=tuple(blocks), **changes)


def with_data(spec: Spec, fingerprint: str) -> Spec:
    """The spec with every trial pinned to the data of `fingerprint` (suite/core/fingerprint.py): a stored
    trial then counts as done only for that data, and a worker that finds other data refuses to train."""
    train = {**dict(spec.train), "data_fingerprint": fingerprint}
    return dataclasses.replace(spec, train=tuple(sorted(train.items())))
