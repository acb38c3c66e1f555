"""Dataset registry: every dataset by name, loaded once per process.

`load_dataset(name, root)` returns a `DataBundle` (suite/core/data/bundle.py): the
whole dataset as tensors. The loaders live in torchvision_sets.py,
tinyimagenet.py and synthetic.py; `DATASETS` lists them with what a trial
needs to know before loading (input shape, number of classes). Where the files
live: `suite.core.data.root.resolve_data_root`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from suite.core.data.bundle import DataBundle
from suite.core.data.root import DataError, resolve_data_root
from suite.core.data.fingerprint import DataIdentity, identity_of_files, identity_of_tensors
from suite.core.data.synthetic import load_synthetic
from suite.core.data.tinyimagenet import load_tinyimagenet
from suite.core.data.torchvision_sets import load_cifar10, load_cifar100, load_fmnist, load_kmnist, load_mnist
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
    # The files the loader reads, relative to the data root: what the data's fingerprint is made of
    # (suite/core/data/fingerprint.py). Empty: fingerprinted from the loaded tensors.
    files: tuple[str, ...] = ()


def _mnist_files(folder: str) -> tuple[str, ...]:
    return tuple(f"{folder}/raw/{split}-{kind}" for split in ("train", "t10k")
                 for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"))


_CIFAR10_FILES = tuple(f"cifar-10-batches-py/{n}" for n in
                       ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                        "test_batch", "batches.meta"))
_CIFAR100_FILES = tuple(f"cifar-100-python/{n}" for n in ("train", "test", "meta"))


DATASETS: Registry[DatasetSpec] = Registry("dataset", [
    DatasetSpec("mnist", load_mnist, "MNIST digits, 60k/10k, 1x28x28 in [0, 1]", "MNIST", (1, 28, 28), 10,
                _mnist_files("MNIST")),
    DatasetSpec("fmnist", load_fmnist, "Fashion-MNIST, 60k/10k, 1x28x28 in [0, 1]", "F-MNIST", (1, 28, 28), 10,
                _mnist_files("FashionMNIST")),
    DatasetSpec("kmnist", load_kmnist, "Kuzushiji-MNIST, 60k/10k, 1x28x28 in [0, 1]", "K-MNIST", (1, 28, 28), 10,
                _mnist_files("KMNIST")),
    DatasetSpec("cifar10", load_cifar10, "CIFAR-10, 50k/10k, 3x32x32, normalized, augmented", "CIFAR10",
                (3, 32, 32), 10, _CIFAR10_FILES),
    DatasetSpec("cifar100", load_cifar100, "CIFAR-100, 50k/10k, 3x32x32, normalized, augmented", "CIFAR100",
                (3, 32, 32), 100, _CIFAR100_FILES),
    DatasetSpec("tinyimagenet", load_tinyimagenet,
                "Tiny ImageNet, 100k/10k (val), 3x64x64, 200 classes, normalized, augmented", "Tiny ImageNet",
                (3, 64, 64), 200),
    DatasetSpec("synthetic", load_synthetic,
                "TEST ONLY: 2048/512 learnable 1x28x28 images, 10 classes, fixed seed", "Synthetic",
                (1, 28, 28), 10),
])

# Keyed by the files' fingerprint too: a file that changes under a long-lived worker is read again.
_LOADED: dict[tuple[str, str, str | None], DataBundle] = {}


def _files_identity(spec: DatasetSpec, data_root: Path) -> DataIdentity | None:
    """The fingerprint of the dataset's files when they are all on disk, else None."""
    if not spec.files or not all((data_root / rel).is_file() for rel in spec.files):
        return None
    return identity_of_files(data_root, list(spec.files))


def load_dataset(name: str, root: str | Path | None = None, download: bool = True) -> DataBundle:
    """Load dataset `name` from `root` (see `resolve_data_root`), once per process, with its
    fingerprint (`bundle.identity`).

    Tries the files on disk first; downloads only if they are missing and
    `download` is true. Raises DataError if the data cannot be had.
    """
    spec = DATASETS.get(name)
    data_root = resolve_data_root(root)
    before = _files_identity(spec, data_root)
    key = (name, str(data_root), before.fingerprint if before else None)
    if key not in _LOADED:
        bundle = spec.loader(data_root, download)
        identity = _files_identity(spec, data_root) if spec.files else None
        bundle.identity = identity or identity_of_tensors(bundle.train_x, bundle.train_y, bundle.test_x,
                                                          bundle.test_y)
        _LOADED[key] = bundle
    return _LOADED[key]


def dataset_identity(name: str, root: str | Path | None = None, download: bool = True) -> DataIdentity:
    """The fingerprint of dataset `name` under `root`: from its files without loading them where it has
    known files on disk, else by loading (downloading where allowed) it. DataError if it cannot be had."""
    spec = DATASETS.get(name)
    identity = _files_identity(spec, resolve_data_root(root))
    return identity or load_dataset(name, root, download).identity


def clear_cache() -> None:
    """Forget every loaded dataset (tests; freeing memory)."""
    _LOADED.clear()


def require_data(fingerprint: str | None, bundle: DataBundle, what: str) -> None:
    """DataError unless `bundle` is the data `fingerprint` names (None pins nothing)."""
    found = bundle.identity
    if fingerprint is not None and fingerprint != found.fingerprint:
        raise DataError(f"{what} was planned for {bundle.name} data {fingerprint}, but the files found have "
                        f"fingerprint {found.fingerprint} ({found.sources_json()}); point --data at the data it "
                        "was planned for, or plan it again")
