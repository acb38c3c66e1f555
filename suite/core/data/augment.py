"""Training-time augmentation of image batches (App. G.2): flips, shifts, rotations.

Applied per batch on the tensors' device, with every random number drawn from
a CPU generator so a trial's batches do not depend on where it runs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

# Augmentation ranges (App. G.2), in the terms of Keras' ImageDataGenerator
# (width/height_shift_range, rotation_range, horizontal_flip).
MAX_SHIFT = 0.125
MAX_ROTATION_DEG = 15.0


def check_cpu_generator(generator: torch.Generator) -> None:
    """Random draws are made on CPU, then moved: a CUDA generator would make them device-dependent."""
    if not isinstance(generator, torch.Generator) or generator.device.type != "cpu":
        raise ValueError("train_batches needs a CPU torch.Generator (random draws are made on CPU, then moved)")


def augment_batch(images: Tensor, generator: torch.Generator) -> Tensor:
    """Random flip, shift (<= 12.5 %) and rotation (<= 15 deg) of an (N, C, H, W) batch.

    All random numbers come from the CPU `generator` (so results do not depend
    on the device) and are moved to the batch's device; the warp is one
    `affine_grid` + `grid_sample` for the whole batch. Out-of-image pixels
    repeat the border (Keras' default fill_mode="nearest"), and sampling is
    bilinear, as in Keras' ImageDataGenerator whose terms App. G.2 uses.
    """
    check_cpu_generator(generator)
    n, _, height, width = images.shape
    theta = _random_affine(n, height, width, generator).to(device=images.device, dtype=images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _random_affine(n: int, height: int, width: int, generator: torch.Generator) -> Tensor:
    """(n, 2, 3) affine maps from output to input coordinates in [-1, 1] units.

    The rotation is a true rotation in pixel space, i.e. conjugated with the
    aspect scaling, so it stays correct for non-square images.
    """
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(MAX_ROTATION_DEG)
    # A shift by a fraction f of the width is 2 f in normalized coordinates.
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 * MAX_SHIFT)
    cos, sin = torch.cos(angle), torch.sin(angle)
    aspect = height / width
    theta = torch.zeros(n, 2, 3)
    # Rotation in pixel space S R S^-1 (S = diag(W, H) / 2), then the flip of x.
    theta[:, 0, 0] = cos * flip
    theta[:, 0, 1] = -sin * aspect
    theta[:, 1, 0] = sin / aspect * flip
    theta[:, 1, 1] = cos
    theta[:, :, 2] = shift
    return theta
