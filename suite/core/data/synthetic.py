"""A small synthetic dataset for tests: learnable, deterministic, never downloaded."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from suite.core.data.bundle import DataBundle

SYNTHETIC_SEED = 20240917
SYNTHETIC_SIZES = (2048, 512)
SYNTHETIC_NOISE = 0.35


def load_synthetic(root: Path, download: bool) -> DataBundle:
    """A small deterministic, learnable dataset for tests (ignores root and download).

    Not a benchmark: each class is a fixed smooth random prototype (8x8 noise
    upsampled to 28x28) and samples are prototype + Gaussian noise, clipped to
    [0, 1] like MNIST pixels. Everything comes from one fixed seed, so every
    call returns identical tensors.
    """
    generator = torch.Generator().manual_seed(SYNTHETIC_SEED)
    prototypes = F.interpolate(torch.rand(10, 1, 8, 8, generator=generator), size=(28, 28), mode="bilinear")
    n_train, n_test = SYNTHETIC_SIZES
    train_x, train_y = _synthetic_split(prototypes, n_train, generator)
    test_x, test_y = _synthetic_split(prototypes, n_test, generator)
    return DataBundle("synthetic", 10, (1, 28, 28), train_x, train_y, test_x, test_y, augment=False)


def _synthetic_split(prototypes: Tensor, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    num_classes = prototypes.shape[0]
    # Balanced classes in shuffled order.
    labels = (torch.arange(n) % num_classes)[torch.randperm(n, generator=generator)]
    noise = torch.randn(n, *prototypes.shape[1:], generator=generator) * SYNTHETIC_NOISE
    images = (prototypes[labels] + noise).clamp_(0.0, 1.0)
    return images, labels.to(torch.int64)
