"""Provenance: every row says which data, code, versions and threads produced it; a stored trial is
done only for the data it trained on; a report never mixes data."""

import hashlib
import json
import struct
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bench_subprocess import bench, write_spec
from suite.config import TrialConfig
from suite.core.data.registry import clear_cache, dataset_identity
from suite.core.data.root import DataError
from suite.core.data.fingerprint import fingerprint_of_checksums, identity_of_files
from suite.provenance import PROVENANCE_COLUMNS
from suite.train import run_trial

ARCHIVE = Path(__file__).resolve().parents[1] / "results" / "archive" / "rebuilt-fmnist-split"
# ../shared/data/README.md: the official Fashion-MNIST files, and the rebuild's image files before 2026-12-07.
OFFICIAL = {"FashionMNIST/raw/train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "FashionMNIST/raw/train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "FashionMNIST/raw/t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "FashionMNIST/raw/t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"}
REBUILT = {**OFFICIAL, "FashionMNIST/raw/train-images-idx3-ubyte": "2b219d4bba8ec803a27fcd1f2edeb80b",
           "FashionMNIST/raw/t10k-images-idx3-ubyte": "b381b677e63e3de2271935df7df8a242"}


def _idx(path: Path, magic: int, shape: tuple[int, ...], payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in shape) + payload)


def tiny_fmnist(root: Path, n_train: int = 64, n_test: int = 32, shift: int = 0) -> Path:
    """A Fashion-MNIST folder in torchvision's layout with a few deterministic images (`shift` changes them)."""
    raw = root / "FashionMNIST" / "raw"
    for split, n in (("train", n_train), ("t10k", n_test)):
        pixels = bytes((7 * i + shift) % 256 for i in range(n * 28 * 28))
        _idx(raw / f"{split}-images-idx3-ubyte", 2051, (n, 28, 28), pixels)
        _idx(raw / f"{split}-labels-idx1-ubyte", 2049, (n,), bytes(i % 10 for i in range(n)))
    return root


def test_the_fingerprint_of_files_is_made_of_their_md5(tmp_path):
    root = tiny_fmnist(tmp_path)
    files = sorted(str(p.relative_to(root)) for p in (root / "FashionMNIST" / "raw").iterdir())
    md5 = {f: hashlib.md5((root / f).read_bytes()).hexdigest() for f in files}
    assert identity_of_files(root, files).sources == md5
    assert dataset_identity("fmnist", root, download=False).fingerprint == fingerprint_of_checksums(md5)
    tiny_fmnist(tmp_path, shift=1)  # other bytes, other data
    assert dataset_identity("fmnist", root, download=False).fingerprint != fingerprint_of_checksums(md5)


def test_missing_data_is_a_named_error_without_download(tmp_path):
    with pytest.raises(DataError, match="fmnist"):
        dataset_identity("fmnist", tmp_path, download=False)


def test_a_row_carries_its_provenance():
    result = run_trial(TrialConfig(model="lenet300", dataset="synthetic", method="dense", epochs=1))
    row = result.rows[0]
    assert all(row[c] is not None for c in PROVENANCE_COLUMNS if c != "bench_version")
    assert row["data_fingerprint"] == dataset_identity("synthetic").fingerprint
    assert json.loads(row["data_sources"])["tensors"].startswith(row["data_fingerprint"])
    assert row["threads"] >= 1 and row["torch_version"]


def test_a_trial_pinned_to_other_data_refuses_to_train():
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="dense", epochs=1,
                      data_fingerprint="0123456789abcdef")
    with pytest.raises(DataError, match="0123456789abcdef"):
        run_trial(cfg)


def test_the_archived_reference_is_labelled_with_the_rebuilt_data():
    rebuilt, official = fingerprint_of_checksums(REBUILT), fingerprint_of_checksums(OFFICIAL)
    assert rebuilt != official
    files = sorted(ARCHIVE.glob("**/rows/*.parquet"))
    assert len(files) >= 900
    for path in files:
        table = pq.read_table(path, columns=["data_fingerprint", "data_sources", "config_json"]).to_pylist()
        assert {r["data_fingerprint"] for r in table} == {rebuilt}, path
        assert json.loads(table[0]["data_sources"]) == REBUILT
        assert "data_fingerprint" not in json.loads(table[0]["config_json"])  # its hash is as it was


def test_official_fmnist_here_has_the_official_fingerprint():
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (shared / "FashionMNIST" / "raw").is_dir():
        pytest.skip(f"no shared data at {shared}")
    assert dataset_identity("fmnist", shared, download=False).fingerprint == fingerprint_of_checksums(OFFICIAL)


@pytest.mark.slow
def test_changed_data_is_trained_again_and_reported_apart(tmp_path):
    """The issue's check: one tiny trial, the dataset's bytes changed, the next sweep trains it again while
    the old row stays on disk, and the report keeps the two apart."""
    data, results = tiny_fmnist(tmp_path / "data"), tmp_path / "results"
    spec = write_spec(tmp_path, """\
        name: provenance
        model: lenet300
        dataset: fmnist
        train: {epochs: 1, batch_size: 32, lr: 0.1}
        seeds: [0]
        methods:
          dense: {}
        """)
    common = ["--data", str(data), "--results", str(results), "--num-cpus", "1"]
    first = bench("sweep", str(spec), *common)
    assert first.returncode == 0, first.stdout + first.stderr
    old = sorted((results / "provenance" / "rows").glob("*.parquet"))
    assert len(old) == 1
    old_fp = pq.read_table(old[0]).column("data_fingerprint")[0].as_py()
    clear_cache()
    tiny_fmnist(tmp_path / "data", shift=3)
    preview = bench("sweep", str(spec), *common, "--dry-run")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "1 stored trial(s) of these configurations were trained on other data" in preview.stdout
    assert old_fp in preview.stdout
    second = bench("sweep", str(spec), *common)
    assert second.returncode == 0, second.stdout + second.stderr
    rows = sorted((results / "provenance" / "rows").glob("*.parquet"))
    assert len(rows) == 2 and old[0] in rows  # the old row is kept
    fingerprints = {pq.read_table(p).column("data_fingerprint")[0].as_py() for p in rows}
    assert len(fingerprints) == 2 and old_fp in fingerprints
    new_fp = (fingerprints - {old_fp}).pop()
    for fp, reported in ((None, new_fp), (old_fp, old_fp)):
        out = tmp_path / f"report-{reported}"
        args = ["report", "provenance", "--results", str(results), "--out", str(out), "--table", "accuracy"]
        done = bench(*args, *(["--data-fingerprint", fp] if fp else []))
        assert done.returncode == 0, done.stdout + done.stderr
        index = (out / "index.md").read_text()
        assert f"- fmnist data {reported} (FashionMNIST/raw/t10k-images-idx3-ubyte md5 " in index
        other = old_fp if reported == new_fp else new_fp
        assert f"other data, left out here (never mixed into a cell): {other} (1 trials)" in index
    wrong = bench("report", "provenance", "--results", str(results), "--data-fingerprint", "feedfacefeedface")
    assert wrong.returncode != 0 and "allowed:" in wrong.stdout + wrong.stderr
