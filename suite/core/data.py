"""Dataset registry: whole datasets as tensors, batched by indexing.

Every dataset is loaded once per process into a `DataBundle` of float32 image
tensors (N, C, H, W) and int64 labels. Batches are made by indexing with a
permutation, not with a per-sample DataLoader: for these small images that is
far faster, runs on whatever device the tensors live on, and makes the batch
order a pure function of a `torch.Generator` (reproducible trials).

Pre-processing follows App. G.2 of the DWF paper:
* MNIST, Fashion-MNIST, K-MNIST: pixels rescaled to [0, 1], nothing else.
* CIFAR-10/100, Tiny ImageNet: normalized per channel with the mean/std of the
  training split, and augmented (horizontal flips, shifts up to 12.5 %,
  rotations up to 15 degrees) per batch on the tensors' device.

Where the data lives: `resolve_data_root` (argument, else `$BENCH_DATA`, else
`~/.cache/bench/data`). Missing data raises `DataError` saying where we looked
and how to point elsewhere.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from suite.core.data_lock import download_lock

DATA_ENV = "BENCH_DATA"
DEFAULT_DATA_ROOT = Path("~/.cache/bench/data")

# Augmentation ranges (App. G.2), in the terms of Keras' ImageDataGenerator
# (width/height_shift_range, rotation_range, horizontal_flip).
MAX_SHIFT = 0.125
MAX_ROTATION_DEG = 15.0


class DataError(RuntimeError):
    """A dataset could not be found or loaded; the message says where we looked."""


class UnknownDatasetError(ValueError, KeyError):
    """An unknown dataset name; the message lists the registered names."""

    def __str__(self) -> str:
        # KeyError.__str__ would repr-quote the message; show it plainly.
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------- bundle


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
        _check_cpu_generator(generator)
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


def _check_cpu_generator(generator: torch.Generator) -> None:
    if not isinstance(generator, torch.Generator) or generator.device.type != "cpu":
        raise ValueError("train_batches needs a CPU torch.Generator (random draws are made on CPU, then moved)")


# --------------------------------------------------------------------------- augmentation


def augment_batch(images: Tensor, generator: torch.Generator) -> Tensor:
    """Random flip, shift (<= 12.5 %) and rotation (<= 15 deg) of an (N, C, H, W) batch.

    All random numbers come from the CPU `generator` (so results do not depend
    on the device) and are moved to the batch's device; the warp is one
    `affine_grid` + `grid_sample` for the whole batch. Out-of-image pixels
    repeat the border (Keras' default fill_mode="nearest"), and sampling is
    bilinear, as in Keras' ImageDataGenerator whose terms App. G.2 uses.
    """
    _check_cpu_generator(generator)
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


# --------------------------------------------------------------------------- registry

Loader = Callable[[Path, bool], DataBundle]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    loader: Loader
    description: str


DATASETS: dict[str, DatasetSpec] = {}
_LOADED: dict[tuple[str, str], DataBundle] = {}


def register_dataset(name: str, description: str = "") -> Callable[[Loader], Loader]:
    """Decorator adding `loader(root, download) -> DataBundle` to DATASETS."""

    def decorate(loader: Loader) -> Loader:
        if name in DATASETS:
            raise ValueError(f"dataset {name!r} is already registered")
        DATASETS[name] = DatasetSpec(name, loader, description or (loader.__doc__ or "").strip())
        return loader

    return decorate


def list_datasets() -> list[str]:
    return sorted(DATASETS)


def get_dataset_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        allowed = ", ".join(list_datasets())
        raise UnknownDatasetError(f"unknown dataset {name!r}; allowed: {allowed}") from None


def resolve_data_root(root: str | Path | None = None) -> Path:
    """The data directory: `root` if given, else $BENCH_DATA, else ~/.cache/bench/data."""
    if root is None or str(root) == "":
        root = os.environ.get(DATA_ENV) or DEFAULT_DATA_ROOT
    return Path(root).expanduser().resolve()


def load_dataset(name: str, root: str | Path | None = None, download: bool = True) -> DataBundle:
    """Load dataset `name` from `root` (see `resolve_data_root`), once per process.

    Tries the files on disk first; downloads only if they are missing and
    `download` is true. Raises DataError if the data cannot be had.
    """
    spec = get_dataset_spec(name)
    data_root = resolve_data_root(root)
    key = (name, str(data_root))
    if key not in _LOADED:
        _LOADED[key] = spec.loader(data_root, download)
    return _LOADED[key]


def clear_cache() -> None:
    """Forget every loaded dataset (tests; freeing memory)."""
    _LOADED.clear()


def _missing_message(name: str, root: Path, where: Path, reason: str) -> str:
    return (
        f"dataset {name!r} not found in {root} (looked for its files under {where}); {reason}. "
        f"Put the files there, or point elsewhere with `--data DIR` or the {DATA_ENV} environment variable."
    )


# --------------------------------------------------------------------------- torchvision datasets


def _torchvision_split(cls: type, name: str, root: Path, download: bool, train: bool, where: Path) -> Any:
    """Open one split of a torchvision dataset: from disk, else by downloading."""
    try:
        return cls(str(root), train=train, download=False)
    except RuntimeError as missing:
        if not download:
            raise DataError(_missing_message(name, root, where, "download is disabled")) from missing
    try:
        with download_lock(root, name):  # other workers of this node wait, then find the files
            return cls(str(root), train=train, download=True)
    except Exception as failed:  # URLError, OSError, RuntimeError, lock timeout...: all mean "could not get it"
        reason = f"downloading failed ({type(failed).__name__}: {failed})"
        raise DataError(_missing_message(name, root, where, reason)) from failed


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


@register_dataset("mnist", description="MNIST digits, 60k/10k, 1x28x28 in [0, 1]")
def _load_mnist(root: Path, download: bool) -> DataBundle:
    return _load_mnist_like("MNIST", "mnist", root, download)


@register_dataset("fmnist", description="Fashion-MNIST, 60k/10k, 1x28x28 in [0, 1]")
def _load_fmnist(root: Path, download: bool) -> DataBundle:
    return _load_mnist_like("FashionMNIST", "fmnist", root, download)


@register_dataset("kmnist", description="Kuzushiji-MNIST, 60k/10k, 1x28x28 in [0, 1]")
def _load_kmnist(root: Path, download: bool) -> DataBundle:
    return _load_mnist_like("KMNIST", "kmnist", root, download)


def _load_cifar(cls_name: str, name: str, folder: str, root: Path, download: bool) -> DataBundle:
    """CIFAR: uint8 (N, 32, 32, 3) arrays from torchvision -> normalized float32 NCHW."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, cls_name)
    where = root / folder
    train = _torchvision_split(cls, name, root, download, True, where)
    test = _torchvision_split(cls, name, root, download, False, where)
    return _normalized_bundle(
        name,
        len(train.classes),
        _hwc_uint8_to_nchw(torch.from_numpy(train.data)),
        torch.as_tensor(train.targets, dtype=torch.int64),
        _hwc_uint8_to_nchw(torch.from_numpy(test.data)),
        torch.as_tensor(test.targets, dtype=torch.int64),
    )


def _hwc_uint8_to_nchw(images: Tensor) -> Tensor:
    return images.permute(0, 3, 1, 2).contiguous()


def _normalized_bundle(
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


@register_dataset("cifar10", description="CIFAR-10, 50k/10k, 3x32x32, normalized, augmented")
def _load_cifar10(root: Path, download: bool) -> DataBundle:
    return _load_cifar("CIFAR10", "cifar10", "cifar-10-batches-py", root, download)


@register_dataset("cifar100", description="CIFAR-100, 50k/10k, 3x32x32, normalized, augmented")
def _load_cifar100(root: Path, download: bool) -> DataBundle:
    return _load_cifar("CIFAR100", "cifar100", "cifar-100-python", root, download)


# --------------------------------------------------------------------------- Tiny ImageNet

TINY_IMAGENET_DIR = "tiny-imagenet-200"
TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
TINY_IMAGENET_CACHE = "tiny-imagenet-200.pt"


@register_dataset("tinyimagenet", description="Tiny ImageNet, 100k/10k (val), 3x64x64, 200 classes, normalized, augmented")
def _load_tinyimagenet(root: Path, download: bool) -> DataBundle:
    """Tiny ImageNet from `<root>/tiny-imagenet-200/` (standard layout).

    The official val split (10,000 labelled images) serves as the test set, as
    the test split has no labels. Classes are indexed in sorted wnid order.
    Decoding 110k JPEGs is slow, so the decoded uint8 tensors are cached in
    `<root>/tiny-imagenet-200.pt` (uint8 keeps it at ~1.4 GB); normalization is
    redone on each load from the cached pixels.
    """
    cache = root / TINY_IMAGENET_CACHE
    if not cache.is_file() and download:
        with download_lock(root, "tinyimagenet"):  # one worker fetches and decodes; the others wait
            if not cache.is_file():
                _atomic_save(_decode_tinyimagenet(_tinyimagenet_folder(root, download)), cache)
    if cache.is_file():
        raw = torch.load(cache, weights_only=True)
    else:
        folder = _tinyimagenet_folder(root, download)
        raw = _decode_tinyimagenet(folder)
        _atomic_save(raw, cache)
    return _normalized_bundle(
        "tinyimagenet", len(raw["classes"]), raw["train_x"], raw["train_y"], raw["test_x"], raw["test_y"]
    )


def _tinyimagenet_folder(root: Path, download: bool) -> Path:
    folder = root / TINY_IMAGENET_DIR
    if (folder / "wnids.txt").is_file():
        return folder
    if not download:
        raise DataError(_missing_message("tinyimagenet", root, folder, "download is disabled"))
    try:
        from torchvision.datasets.utils import download_and_extract_archive

        download_and_extract_archive(TINY_IMAGENET_URL, download_root=str(root))
    except Exception as failed:  # no network, bad archive...: all mean "could not get it"
        reason = f"downloading failed ({type(failed).__name__}: {failed})"
        raise DataError(_missing_message("tinyimagenet", root, folder, reason)) from failed
    if not (folder / "wnids.txt").is_file():
        raise DataError(_missing_message("tinyimagenet", root, folder, "the downloaded archive lacks wnids.txt"))
    return folder


def _decode_tinyimagenet(folder: Path) -> dict[str, object]:
    """Decode the train and val JPEGs into uint8 (N, 3, 64, 64) tensors."""
    classes = sorted((folder / "wnids.txt").read_text().split())
    index = {wnid: i for i, wnid in enumerate(classes)}
    train_files = [
        (path, index[wnid]) for wnid in classes for path in sorted((folder / "train" / wnid / "images").glob("*.JPEG"))
    ]
    val_files = [(folder / "val" / "images" / fname, index[wnid]) for fname, wnid in _val_annotations(folder)]
    train_x, train_y = _decode_images(train_files)
    test_x, test_y = _decode_images(val_files)
    return {"classes": classes, "train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}


def _val_annotations(folder: Path) -> list[tuple[str, str]]:
    """(file name, wnid) pairs from val/val_annotations.txt (tab-separated, bbox ignored)."""
    lines = (folder / "val" / "val_annotations.txt").read_text().splitlines()
    pairs = [tuple(line.split("\t")[:2]) for line in lines if line.strip()]
    return sorted(pairs)  # type: ignore[arg-type]


def _decode_images(files: list[tuple[Path, int]]) -> tuple[Tensor, Tensor]:
    if not files:
        raise DataError("tinyimagenet: no images found; is the folder in the standard layout?")
    labels = torch.tensor([label for _, label in files], dtype=torch.int64)
    return torch.stack([_decode_rgb(path) for path, _ in files]), labels


def _decode_rgb(path: Path) -> Tensor:
    """uint8 (3, H, W); Pillow rather than torchvision.io, whose decoders are deprecated.

    Some Tiny ImageNet images are grayscale; converting to RGB gives them 3 channels.
    """
    from PIL import Image

    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1)


def _atomic_save(obj: object, path: Path) -> None:
    """Write then rename, so a crash never leaves a half-written cache behind."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- synthetic (tests only)

SYNTHETIC_SEED = 20240917
SYNTHETIC_SIZES = (2048, 512)
SYNTHETIC_NOISE = 0.35


@register_dataset("synthetic", description="TEST ONLY: 2048/512 learnable 1x28x28 images, 10 classes, fixed seed")
def _load_synthetic(root: Path, download: bool) -> DataBundle:
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
