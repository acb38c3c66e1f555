"""The torchvision datasets: MNIST, Fashion-MNIST, K-MNIST, CIFAR-10/100.

Pre-processing follows App. G.2 of the DWF paper: the MNIST family is only
rescaled to [0, 1]; CIFAR is normalized per channel with the training split's
mean/std and augmented when training (`suite.core.data.bundle.normalized_bundle`).
Files are read from disk first and downloaded only when missing, one worker of
a node at a time (`download_lock`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from suite.core.data.bundle import DataBundle, normalized_bundle
from suite.core.data.lock import download_lock
from suite.core.data.root import DataError, missing_message


def _torchvision_split(cls: type, name: str, root: Path, download: bool, train: bool, where: Path) -> Any:
    """Open one split of a torchvision dataset: from disk, else by downloading."""
    try:
        return cls(str(root), train=train, download=False)
    except RuntimeError as missing:
        if not download:
            raise DataError(missing_message(name, root, where, "download is disabled")) from missing
    try:
        with download_lock(root, name):  # other workers of this node wait, then find the files
            return cls(str(root), train=train, download=True)
    except Exception as failed:  # URLError, OSError, RuntimeError, lock timeout...: all mean "could not get it"
        reason = f"downloading failed ({type(failed).__name__}: {failed})"
        raise DataError(missing_message(name, root, where, reason)) from failed


def _load_mnist_like(cls_name: str, name: str, root: Path, download: bool) -> DataBundle:
    """MNIST-family: uint8 (N, 28, 28) tensors straight from torchvision, scaled to [0, 1]."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, cls_name)
    where = root / cls_name / "raw"
    train = _torchvision_split(cls, name, root, download, True, where)
    test = _torchvision_split(cls, name, root, download, False, where)
    return DataBundle(
        name=name,
        num_classes=len(train.classes),
        input_shape=(1, 28, 28),
        train_x=_mnist_images(train.data),
        train_y=torch.as_tensor(train.targets, dtype=torch.int64),
        test_x=_mnist_images(test.data),
        test_y=torch.as_tensor(test.targets, dtype=torch.int64),
        augment=False,
    )


def _mnist_images(data: Tensor) -> Tensor:
    return data.unsqueeze(1).to(torch.float32).div_(255.0)


def load_mnist(root: Path, download: bool) -> DataBundle:
    return _load_mnist_like("MNIST", "mnist", root, download)


def load_fmnist(root: Path, download: bool) -> DataBundle:
    return _load_mnist_like("FashionMNIST", "fmnist", root, download)


def load_kmnist(root: Path, download: bool) -> DataBundle:
    return _load_mnist_like("KMNIST", "kmnist", root, download)


def _load_cifar(cls_name: str, name: str, folder: str, root: Path, download: bool) -> DataBundle:
    """CIFAR: uint8 (N, 32, 32, 3) arrays from torchvision -> normalized float32 NCHW."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, cls_name)
    where = root / folder
    train = _torchvision_split(cls, name, root, download, True, where)
    test = _torchvision_split(cls, name, root, download, False, where)
    return normalized_bundle(
        name,
        len(train.classes),
        _hwc_uint8_to_nchw(torch.from_numpy(train.data)),
        torch.as_tensor(train.targets, dtype=torch.int64),
        _hwc_uint8_to_nchw(torch.from_numpy(test.data)),
        torch.as_tensor(test.targets, dtype=torch.int64),
    )


def _hwc_uint8_to_nchw(images: Tensor) -> Tensor:
    return images.permute(0, 3, 1, 2).contiguous()


def load_cifar10(root: Path, download: bool) -> DataBundle:
    return _load_cifar("CIFAR10", "cifar10", "cifar-10-batches-py", root, download)


def load_cifar100(root: Path, download: bool) -> DataBundle:
    return _load_cifar("CIFAR100", "cifar100", "cifar-100-python", root, download)
