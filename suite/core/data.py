"""Dataset registry: every dataset by name, loaded once per process.

`load_dataset(name, root)` returns a `DataBundle` (suite/core/bundle.py): the
whole dataset as tensors. The loaders live in torchvision_sets.py,
tinyimagenet.py and synthetic.py; `DATASETS` lists them with what a trial
needs to know before loading (input shape, number of classes). Where the files
live: `suite.core.data_root.resolve_data_root`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from suite.core.bundle import DataBundle
from suite.core.data_root import resolve_data_root
from suite.core.synthetic import load_synthetic
from suite.core.tinyimagenet import load_tinyimagenet
from suite.core.torchvision_sets import load_cifar10, load_cifar100, load_fmnist, load_kmnist, load_mnist
from suite.registry import Registry

# loader(root, download) -> DataBundle; raises DataError when the data cannot be had.
Loader = Callable[[Path, bool], DataBundle]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    loader: Loader
    description: str
    # The paper's name, for titles and table sections.
    title: str
    # Known without loading: what the models are built for.
    input_shape: tuple[int, int, int]
    num_classes: int


DATASETS: Registry[DatasetSpec] = Registry("dataset", [
    DatasetSpec("mnist", load_mnist, "MNIST digits, 60k/10k, 1x28x28 in [0, 1]", "MNIST", (1, 28, 28), 10),
    DatasetSpec("fmnist", load_fmnist, "Fashion-MNIST, 60k/10k, 1x28x28 in [0, 1]", "F-MNIST", (1, 28, 28), 10),
    DatasetSpec("kmnist", load_kmnist, "Kuzushiji-MNIST, 60k/10k, 1x28x28 in [0, 1]", "K-MNIST", (1, 28, 28), 10),
    DatasetSpec("cifar10", load_cifar10, "CIFAR-10, 50k/10k, 3x32x32, normalized, augmented", "CIFAR10",
                (3, 32, 32), 10),
    DatasetSpec("cifar100", load_cifar100, "CIFAR-100, 50k/10k, 3x32x32, normalized, augmented", "CIFAR100",
                (3, 32, 32), 100),
    DatasetSpec("tinyimagenet", load_tinyimagenet,
                "Tiny ImageNet, 100k/10k (val), 3x64x64, 200 classes, normalized, augmented", "Tiny ImageNet",
                (3, 64, 64), 200),
    DatasetSpec("synthetic", load_synthetic,
                "TEST ONLY: 2048/512 learnable 1x28x28 images, 10 classes, fixed seed", "Synthetic",
                (1, 28, 28), 10),
])

_LOADED: dict[tuple[str, str], DataBundle] = {}


def load_dataset(name: str, root: str | Path | None = None, download: bool = True) -> DataBundle:
    """Load dataset `name` from `root` (see `resolve_data_root`), once per process.

    Tries the files on disk first; downloads only if they are missing and
    `download` is true. Raises DataError if the data cannot be had.
    """
    spec = DATASETS.get(name)
    data_root = resolve_data_root(root)
    key = (name, str(data_root))
    if key not in _LOADED:
        _LOADED[key] = spec.loader(data_root, download)
    return _LOADED[key]


def clear_cache() -> None:
    """Forget every loaded dataset (tests; freeing memory)."""
    _LOADED.clear()
