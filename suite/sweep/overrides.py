"""Quick-run overrides of a validated spec (the `bench sweep` flags): fewer epochs,
seeds, methods or grid points, another lr-search budget or per-trial resources.

One function per override, `(spec, value) -> spec`, each checking its value and
naming its flag; which flag applies which is declared once, in
suite.sweep.options (`SweepOptions`)."""

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


def with_epochs(spec: Spec, epochs: int) -> Spec:
    _check("--epochs", epochs, FIELDS["epochs"].accepts(epochs), FIELDS["epochs"].allowed)
    # GMP's retraining is capped at the same count, so a quick look stays a
    # quick look and GMP gets no more epochs than the methods it is compared with.
    train = {**dict(spec.train), "epochs": epochs}
    # None (the method's own default, a third of the epochs) follows the new count by itself.
    if train.get("finetune_epochs") is not None:
        train["finetune_epochs"] = min(train["finetune_epochs"], epochs)
    blocks = [dataclasses.replace(b, axes=tuple(
        (k, tuple(dict.fromkeys(x if x is None else min(x, epochs) for x in v)) if k == "finetune_epochs" else v)
        for k, v in b.axes if k != "epochs")) for b in spec.methods]
    return dataclasses.replace(spec, train=tuple(sorted(train.items())), methods=tuple(blocks))


def with_seeds(spec: Spec, seeds: Sequence[int]) -> Spec:
    seeds = list(seeds)
    if not seeds or not all(FIELDS["seed"].accepts(s) for s in seeds) or len(set(seeds)) != len(seeds):
        raise SpecError(f"--seeds: {seeds!r} is not allowed; allowed: distinct integers, each "
                        f"{FIELDS['seed'].allowed}, e.g. 0,1")
    return dataclasses.replace(spec, seeds=tuple(seeds))


def only_methods(spec: Spec, methods: Sequence[str]) -> Spec:
    unknown = [m for m in methods if m not in spec.method_names]
    if unknown:
        raise SpecError(f"--methods: {unknown} not in sweep {spec.name!r}; allowed: {', '.join(spec.method_names)}")
    return dataclasses.replace(spec, methods=tuple(b for b in spec.methods if b.name in methods))


def capped(spec: Spec, max_grid: int) -> Spec:
    """λ and target grids thinned to `max_grid` values each (ends kept)."""
    _check("--max-grid", max_grid, is_integer(max_grid) and max_grid >= 1, "an integer >= 1")
    blocks = []
    for b in spec.methods:
        axes = []
        for k, v in b.axes:
            if k == "lam":
                v = tuple(cap_grid(v, max_grid))
            elif k == "compressions":
                v = tuple((c,) for c in cap_grid([c[0] for c in v], max_grid))
            axes.append((k, v))
        blocks.append(dataclasses.replace(b, axes=tuple(axes), targets=tuple(cap_grid(b.targets, max_grid))))
    return dataclasses.replace(spec, methods=tuple(blocks))


def with_lr_budget(spec: Spec, lr_budget: int) -> Spec:
    _check("--lr-budget", lr_budget, is_integer(lr_budget) and lr_budget >= 1, "an integer >= 1")
    return dataclasses.replace(spec, lr_search=dataclasses.replace(spec.lr_search, budget=lr_budget))


def with_cpus_per_trial(spec: Spec, cpus_per_trial: float) -> Spec:
    problem = cpus_per_trial_problem(cpus_per_trial, "--cpus-per-trial")
    _check("--cpus-per-trial", cpus_per_trial, problem is None, (problem or "").split("allowed: ", 1)[-1])
    return dataclasses.replace(spec, cpus_per_trial=float(cpus_per_trial))


def with_gpus_per_trial(spec: Spec, gpus_per_trial: float) -> Spec:
    problem = check_gpu_share("--gpus-per-trial", gpus_per_trial)
    if problem:
        raise SpecError(problem)
    return dataclasses.replace(spec, gpus_per_trial=float(gpus_per_trial))


def with_data(spec: Spec, fingerprint: str) -> Spec:
    """The spec with every trial pinned to the data of `fingerprint` (suite/core/data/fingerprint.py): a stored
    trial then counts as done only for that data, and a worker that finds other data refuses to train."""
    train = {**dict(spec.train), "data_fingerprint": fingerprint}
    return dataclasses.replace(spec, train=tuple(sorted(train.items())))
