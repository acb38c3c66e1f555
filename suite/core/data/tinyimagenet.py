"""Tiny ImageNet (200 classes, 64x64): decoded from the standard folder layout, cached as tensors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from suite.core.data.bundle import DataBundle, normalized_bundle
from suite.core.data.lock import download_lock
from suite.core.data.root import DataError, missing_message

TINY_IMAGENET_DIR = "tiny-imagenet-200"
TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
TINY_IMAGENET_CACHE = "tiny-imagenet-200.pt"


def load_tinyimagenet(root: Path, download: bool) -> DataBundle:
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
    return normalized_bundle(
        "tinyimagenet", len(raw["classes"]), raw["train_x"], raw["train_y"], raw["test_x"], raw["test_y"]
    )


def _tinyimagenet_folder(root: Path, download: bool) -> Path:
    folder = root / TINY_IMAGENET_DIR
    if (folder / "wnids.txt").is_file():
        return folder
    if not download:
        raise DataError(missing_message("tinyimagenet", root, folder, "download is disabled"))
    try:
        from torchvision.datasets.utils import download_and_extract_archive

        download_and_extract_archive(TINY_IMAGENET_URL, download_root=str(root))
    except Exception as failed:  # no network, bad archive...: all mean "could not get it"
        reason = f"downloading failed ({type(failed).__name__}: {failed})"
        raise DataError(missing_message("tinyimagenet", root, folder, reason)) from failed
    if not (folder / "wnids.txt").is_file():
        raise DataError(missing_message("tinyimagenet", root, folder, "the downloaded archive lacks wnids.txt"))
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
