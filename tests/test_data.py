"""Dataset registry: in-memory bundles, batching, augmentation, loading and errors."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import suite.core.data.augment as augment
from suite.core.data.augment import augment_batch
from suite.core.data.bundle import DataBundle
from suite.core.data.registry import DATASETS, clear_cache, load_dataset
from suite.core.data.root import DataError, resolve_data_root
from suite.registry import UnknownNameError

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test loads its own data (the in-process cache would hide loader bugs)."""
    clear_cache()
    yield
    clear_cache()


def _epoch_indices(bundle: DataBundle, batch_size: int, seed: int) -> list[torch.Tensor]:
    """Recover the drawn indices through unique per-sample labels."""
    tagged = DataBundle(
        "tagged", 1, bundle.input_shape, bundle.train_x, torch.arange(bundle.n_train), bundle.test_x, bundle.test_y
    )
    return [y for _, y in tagged.train_batches(batch_size, torch.Generator().manual_seed(seed))]


# --------------------------------------------------------------------------- synthetic


def test_synthetic_shapes_and_dtypes() -> None:
    bundle = load_dataset("synthetic")
    assert (bundle.n_train, bundle.n_test) == (2048, 512)
    assert bundle.train_x.shape == (2048, 1, 28, 28) and bundle.test_x.shape == (512, 1, 28, 28)
    assert bundle.train_x.dtype == torch.float32 and bundle.train_y.dtype == torch.int64
    assert bundle.input_shape == (1, 28, 28) and bundle.num_classes == 10
    assert 0.0 <= bundle.train_x.min() and bundle.train_x.max() <= 1.0
    assert set(bundle.train_y.tolist()) == set(range(10))
    assert not bundle.augment


def test_synthetic_is_deterministic() -> None:
    first = load_dataset("synthetic")
    clear_cache()
    second = load_dataset("synthetic")
    assert first is not second
    assert torch.equal(first.train_x, second.train_x) and torch.equal(first.test_y, second.test_y)


def test_load_is_cached_per_process() -> None:
    assert load_dataset("synthetic", "/nonexistent/a") is load_dataset("synthetic", "/nonexistent/a")


# --------------------------------------------------------------------------- batching


def test_train_batches_cover_each_index_once_and_keep_last_partial() -> None:
    bundle = load_dataset("synthetic")
    batches = _epoch_indices(bundle, 300, seed=0)
    assert [len(b) for b in batches] == [300] * 6 + [248]
    assert torch.equal(torch.cat(batches).sort().values, torch.arange(bundle.n_train))


def test_train_batches_reproducible_from_seed() -> None:
    bundle = load_dataset("synthetic")
    same = [torch.equal(a, b) for a, b in zip(_epoch_indices(bundle, 256, 7), _epoch_indices(bundle, 256, 7))]
    assert all(same)
    assert not torch.equal(_epoch_indices(bundle, 256, 7)[0], _epoch_indices(bundle, 256, 8)[0])


def test_each_epoch_draws_a_fresh_permutation() -> None:
    bundle = load_dataset("synthetic")
    generator = torch.Generator().manual_seed(0)
    first = next(bundle.train_batches(64, generator))[0]
    second = next(bundle.train_batches(64, generator))[0]
    assert not torch.equal(first, second)


def test_train_batches_pair_images_with_their_labels() -> None:
    bundle = load_dataset("synthetic")
    images, labels = next(bundle.train_batches(32, torch.Generator().manual_seed(0)))
    rows = (bundle.train_x.flatten(1)[:, None, :] == images.flatten(1)[None]).all(-1).float().argmax(0)
    assert torch.equal(bundle.train_y[rows], labels)


def test_eval_batches_in_order_without_augmentation() -> None:
    bundle = _augmented_bundle()
    images = torch.cat([x for x, _ in bundle.eval_batches("test", 5)])
    labels = torch.cat([y for _, y in bundle.eval_batches("test", 5)])
    assert torch.equal(images, bundle.test_x) and torch.equal(labels, bundle.test_y)
    assert sum(1 for _ in bundle.eval_batches("train", 7)) == 3
    with pytest.raises(ValueError, match="split"):
        bundle.eval_batches("val", 5)


def test_train_batches_need_a_cpu_generator() -> None:
    bundle = load_dataset("synthetic")
    with pytest.raises(ValueError, match="CPU"):
        bundle.train_batches(32, 0)  # type: ignore[arg-type]


def test_to_device_is_cached() -> None:
    bundle = load_dataset("synthetic")
    assert bundle.to("cpu") is bundle
    moved = bundle.to("meta")
    assert moved.train_x.device.type == "meta" and moved.n_train == bundle.n_train
    assert bundle.to("meta") is moved


# --------------------------------------------------------------------------- augmentation


def _augmented_bundle() -> DataBundle:
    x = torch.randn(20, 3, 16, 16)
    y = torch.arange(20) % 4
    return DataBundle("toy", 4, (3, 16, 16), x, y, x[:12].clone(), y[:12].clone(), augment=True)


def test_augmentation_keeps_shape_and_is_reproducible() -> None:
    bundle = _augmented_bundle()
    run = lambda seed: list(bundle.train_batches(8, torch.Generator().manual_seed(seed)))  # noqa: E731
    first, again, other = run(3), run(3), run(4)
    assert [x.shape for x, _ in first] == [(8, 3, 16, 16), (8, 3, 16, 16), (4, 3, 16, 16)]
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(first, again))
    assert not torch.equal(first[0][0], other[0][0])
    assert all(x.dtype == torch.float32 for x, _ in first)


def test_augmentation_changes_images() -> None:
    images = torch.rand(16, 3, 32, 32)
    out = augment_batch(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    assert not torch.allclose(out, images)


def test_flip_only_augmentation_is_exact_flip(monkeypatch: pytest.MonkeyPatch) -> None:
    """With shifts and rotations off, each image is itself or its mirror image."""
    monkeypatch.setattr(augment, "MAX_SHIFT", 0.0)
    monkeypatch.setattr(augment, "MAX_ROTATION_DEG", 0.0)
    images = torch.rand(32, 1, 8, 12)
    out = augment_batch(images, torch.Generator().manual_seed(0))
    same = torch.isclose(out, images, atol=1e-5).flatten(1).all(1)
    flipped = torch.isclose(out, images.flip(-1), atol=1e-5).flatten(1).all(1)
    assert (same | flipped).all() and same.any() and flipped.any()


# --------------------------------------------------------------------------- loading from disk


def test_unknown_dataset_lists_allowed_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        load_dataset("imagenet22k")
    message = str(info.value)
    assert "imagenet22k" in message and all(name in message for name in DATASETS.names())


@pytest.mark.parametrize("name", DATASETS.names())
def test_registry_entry_matches_the_data_it_loads(name: str) -> None:
    """Shape and classes are known before loading (models are built from them): they must be right."""
    spec = DATASETS.get(name)
    assert spec.name == name and spec.description and spec.title
    try:
        bundle = load_dataset(name, SHARED_DATA, download=False)
    except DataError:
        pytest.skip(f"{name} is not under {SHARED_DATA}")
    assert (bundle.input_shape, bundle.num_classes) == (spec.input_shape, spec.num_classes)
    assert tuple(bundle.train_x.shape[1:]) == spec.input_shape


@pytest.mark.parametrize("name", [n for n in DATASETS.names() if n != "synthetic"])
def test_missing_dataset_raises_data_error_naming_directory(name: str, tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_dataset(name, tmp_path, download=False)
    message = str(info.value)
    assert name in message and str(tmp_path.resolve()) in message
    assert "--data" in message and "BENCH_DATA" in message


def test_resolve_data_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BENCH_DATA", str(tmp_path / "env"))
    assert resolve_data_root(tmp_path / "arg") == (tmp_path / "arg").resolve()
    assert resolve_data_root(None) == (tmp_path / "env").resolve()
    monkeypatch.delenv("BENCH_DATA")
    assert resolve_data_root(None) == (Path.home() / ".cache" / "bench" / "data").resolve()


def _write_idx(path: Path, array: np.ndarray) -> None:
    """IDX (big-endian) file of uint8 data: magic 0x0000 08 <ndim>, then the dims."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _write_fake_mnist(root: Path, n_train: int, n_test: int) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28))
        images[0, 0, 0], images[0, 0, 1] = 0, 255
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)


def test_fake_mnist_loads_through_torchvision(tmp_path: Path) -> None:
    _write_fake_mnist(tmp_path, n_train=30, n_test=20)
    bundle = load_dataset("mnist", tmp_path, download=False)
    assert bundle.train_x.shape == (30, 1, 28, 28) and bundle.test_x.shape == (20, 1, 28, 28)
    assert bundle.train_x.dtype == torch.float32 and bundle.train_y.dtype == torch.int64
    assert bundle.train_x.min() == 0.0 and bundle.train_x.max() == 1.0
    assert bundle.train_y.tolist() == [i % 10 for i in range(30)]
    assert bundle.num_classes == 10 and not bundle.augment


def _write_fake_tinyimagenet(root: Path, wnids: list[str], per_class: int) -> None:
    from PIL import Image

    folder = root / "tiny-imagenet-200"
    (folder / "val" / "images").mkdir(parents=True)
    (folder / "wnids.txt").write_text("\n".join(reversed(wnids)) + "\n")
    annotations = []
    for c, wnid in enumerate(wnids):
        (folder / "train" / wnid / "images").mkdir(parents=True)
        for i in range(per_class):
            color = (40 * c + i, 10 * i, 200 - 40 * c)
            Image.new("RGB", (64, 64), color).save(folder / "train" / wnid / "images" / f"{wnid}_{i}.JPEG")
        # Grayscale, as some images of the real set are.
        Image.new("L", (64, 64), 30 * c).save(folder / "val" / "images" / f"val_{c}.JPEG")
        annotations.append(f"val_{c}.JPEG\t{wnid}\t0\t0\t63\t63")
    (folder / "val" / "val_annotations.txt").write_text("\n".join(annotations) + "\n")


def test_fake_tinyimagenet_loads_and_caches(tmp_path: Path) -> None:
    wnids = ["n01", "n02", "n03"]
    _write_fake_tinyimagenet(tmp_path, wnids, per_class=2)
    bundle = load_dataset("tinyimagenet", tmp_path, download=False)
    assert bundle.train_x.shape == (6, 3, 64, 64) and bundle.test_x.shape == (3, 3, 64, 64)
    assert bundle.train_y.tolist() == [0, 0, 1, 1, 2, 2] and bundle.test_y.tolist() == [0, 1, 2]
    assert bundle.num_classes == 3 and bundle.augment
    mean = bundle.train_x.mean(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.zeros(3), atol=1e-4)
    assert (tmp_path / "tiny-imagenet-200.pt").is_file()
    # Second load (new process, simulated) must come from the cache alone.
    clear_cache()
    shutil.rmtree(tmp_path / "tiny-imagenet-200")
    again = load_dataset("tinyimagenet", tmp_path, download=False)
    assert torch.equal(again.train_x, bundle.train_x) and torch.equal(again.test_y, bundle.test_y)


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "FashionMNIST" / "raw").is_dir(), reason="shared Fashion-MNIST not present")
def test_shared_fashion_mnist_loads() -> None:
    bundle = load_dataset("fmnist", SHARED_DATA, download=False)
    assert (bundle.n_train, bundle.n_test) == (60_000, 10_000)
    assert bundle.train_x.shape == (60_000, 1, 28, 28) and bundle.input_shape == (1, 28, 28)
    assert 0.0 <= bundle.train_x.min() and bundle.train_x.max() <= 1.0
    assert bundle.num_classes == 10 and set(bundle.test_y.unique().tolist()) == set(range(10))
