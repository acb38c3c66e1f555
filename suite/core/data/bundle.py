"""A whole dataset in memory as tensors, batched by indexing.

Every dataset is loaded once per process into a `DataBundle` of float32 image
tensors (N, C, H, W) and int64 labels. Batches are made by indexing with a
permutation, not with a per-sample DataLoader: for these small images that is
far faster, runs on whatever device the tensors live on, and makes the batch
order a pure function of a `torch.Generator` (reproducible trials).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from suite.core.data.augment import augment_batch, check_cpu_generator


@dataclass(eq=False)
class DataBundle:
    """A whole dataset in memory, plus how to batch it.

    `train_x`/`test_x` are float32 (N, C, H, W), already scaled/normalized;
    `train_y`/`test_y` are int64 (N,). `augment` says whether `train_batches`
    augments (never `eval_batches`).
    """

    name: str
    num_classes: int
    input_shape: tuple[int, int, int]
    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor
    augment: bool = False
    # Which data this is (suite.core.data.fingerprint.DataIdentity), set by `load_dataset`.
    identity: Any = None
    # Copies on other devices, so repeated `.to(device)` moves the data once.
    _on_device: dict[str, DataBundle] = field(default_factory=dict, init=False, repr=False)

    @property
    def n_train(self) -> int:
        return int(self.train_y.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.test_y.shape[0])

    @property
    def device(self) -> torch.device:
        return self.train_x.device

    def to(self, device: str | torch.device) -> DataBundle:
        """This bundle on `device` (moved once, then cached)."""
        target = _canonical_device(device)
        if target == self.device:
            return self
        key = str(target)
        if key not in self._on_device:
            self._on_device[key] = dataclasses.replace(
                self,
                train_x=self.train_x.to(target),
                train_y=self.train_y.to(target),
                test_x=self.test_x.to(target),
                test_y=self.test_y.to(target),
            )
        return self._on_device[key]

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        """One epoch of shuffled training batches (last partial batch kept).

        The permutation (and any augmentation) is drawn from `generator`, which
        must be a CPU generator so the order does not depend on the device.
        Arguments are checked here, at the call, not at the first `next()`.
        """
        _check_batch_size(batch_size)
        check_cpu_generator(generator)
        return self._shuffled(batch_size, generator)

    def _shuffled(self, batch_size: int, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        order = torch.randperm(self.n_train, generator=generator).to(self.device)
        for indices in order.split(batch_size):
            images = self.train_x[indices]
            if self.augment:
                images = augment_batch(images, generator)
            yield images, self.train_y[indices]

    def eval_batches(self, split: str, batch_size: int) -> Iterator[tuple[Tensor, Tensor]]:
        """Batches of `split` ("train" or "test") in order, never augmented."""
        _check_batch_size(batch_size)
        images, labels = self._split(split)
        return zip(images.split(batch_size), labels.split(batch_size))

    def _split(self, split: str) -> tuple[Tensor, Tensor]:
        if split == "train":
            return self.train_x, self.train_y
        if split == "test":
            return self.test_x, self.test_y
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def _canonical_device(device: str | torch.device) -> torch.device:
    """'cuda' and 'cuda:0' name the same device; tensors report the indexed form."""
    target = torch.device(device)
    if target.type == "cuda" and target.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return target


def _check_batch_size(batch_size: int) -> None:
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")


def normalized_bundle(
    name: str, num_classes: int, train_u8: Tensor, train_y: Tensor, test_u8: Tensor, test_y: Tensor
) -> DataBundle:
    """Scale uint8 NCHW images to [0, 1], normalize by train mean/std, augment when training.

    The per-channel statistics are computed from the training split (no
    hard-coded constants), so the same code serves CIFAR and Tiny ImageNet.
    """
    train_x = train_u8.to(torch.float32).div_(255.0)
    test_x = test_u8.to(torch.float32).div_(255.0)
    mean, std = _channel_stats(train_x)
    train_x.sub_(mean).div_(std)
    test_x.sub_(mean).div_(std)
    return DataBundle(
        name=name,
        num_classes=num_classes,
        input_shape=tuple(train_x.shape[1:]),  # type: ignore[arg-type]
        train_x=train_x,
        train_y=train_y,
        test_x=test_x,
        test_y=test_y,
        augment=True,
    )


def _channel_stats(images: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std, shaped (1, C, 1, 1); float64 sums avoid drift on 1e8 pixels."""
    flat = images.transpose(0, 1).reshape(images.shape[1], -1).to(torch.float64)
    mean = flat.mean(dim=1)
    std = flat.std(dim=1).clamp_min(1e-8)
    return mean.to(torch.float32).view(1, -1, 1, 1), std.to(torch.float32).view(1, -1, 1, 1)
