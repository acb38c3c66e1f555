"""How much of a GPU each trial of a sweep holds when nobody said (no Ray here).

Who decides, first match wins:
1. `--gpus-per-trial X` (bench sweep / bench submit);
2. the spec's `resources.gpus_per_trial` when it is a number (0 keeps every trial on the CPU);
3. otherwise (`auto`, or no key): the packing rule below when the allocation has GPUs, 0 when it has none.

The packing rule puts several trials of a small network on one GPU, since one
LeNet trial leaves an H100 nearly idle: a trial's share is 1/k of a GPU, with
k trials per GPU by the model's parameter count on the spec's dataset:

    < 5 M parameters (LeNet-300-100, LeNet-5)            k = 4   share 0.25
    < 50 M (VGG-16/19, ResNet-18, WRN-16-8 on CIFAR)      k = 2   share 0.5
    larger                                                k = 1   share 1

A trial also holds `cpus_per_trial` CPUs, so a node runs
min(CPUs / cpus_per_trial, GPUs / share) trials at once.
"""

from __future__ import annotations

# (parameters below, trials per GPU), smallest first; a larger model gets a whole GPU.
PACKING = ((5_000_000, 4), (50_000_000, 2))


def model_parameters(model: str, dataset: str) -> int:
    """Parameters of `model` built for `dataset`'s input shape and classes (on the meta device: no memory)."""
    import torch

    from suite.core.data.registry import DATASETS
    from suite.core.models.registry import build_model

    data = DATASETS.get(dataset)
    with torch.device("meta"):
        net = build_model(model, data.num_classes, data.input_shape)
    return sum(p.numel() for p in net.parameters())


def packed_share(parameters: int) -> float:
    """The packing rule: a trial's share of one GPU for a network of this many parameters."""
    for below, per_gpu in PACKING:
        if parameters < below:
            return 1.0 / per_gpu
    return 1.0


def default_share(model: str, dataset: str) -> float:
    return packed_share(model_parameters(model, dataset))


def resolve_share(asked: float | None, visible_gpus: float, model: str, dataset: str) -> tuple[float, str | None]:
    """(GPUs per trial, a warning or None) for a sweep on an allocation with `visible_gpus` GPUs.

    `asked` is what the flag or the spec said (None: auto). The warning says when GPUs are visible but
    every trial is kept on the CPU, before the sweep starts."""
    if asked is None:
        return (default_share(model, dataset) if visible_gpus > 0 else 0.0), None
    if asked == 0 and visible_gpus > 0:
        share = default_share(model, dataset)
        return 0.0, (f"{visible_gpus:g} GPU(s) are visible to Ray but gpus_per_trial is 0: every trial runs on the "
                     f"CPU and the GPUs stay idle. Drop `gpus_per_trial: 0` from the spec's resources (or write "
                     f"`auto`), or pass --gpus-per-trial {share:g} (the packing rule's share for {model} on "
                     f"{dataset}; see suite/run/cluster/gpu_share.py)")
    return float(asked), None


def share_for_allocation(asked: float | None, gpus_per_node: int, model: str,
                         dataset: str) -> tuple[list[str], str | None]:
    """The `--gpus-per-trial` flag a batch job's sweep gets on nodes of `gpus_per_node` GPUs ([] where it
    needs none: no GPUs, or the share given already), and a warning where the GPUs would stay idle."""
    if gpus_per_node <= 0:
        return [], None
    share, warning = resolve_share(asked, gpus_per_node, model, dataset)
    return ([] if asked is not None else ["--gpus-per-trial", f"{share:g}"]), warning


__all__ = ["PACKING", "share_for_allocation", "default_share", "model_parameters", "packed_share", "resolve_share"]
