"""A dataset read from CSV files a user has: a dataset written outside the project, as a user's plugin.

`tabular` reads `<data root>/tabular/train.csv` and `tabular/test.csv`: a header line, then one example per
line, 16 numeric features and an integer label in 0..3 last. The features are standardized with the
training split's mean and std and shaped (1, 1, 16) (one channel, one row: what the models take; an MLP
flattens it, a convolutional network refuses it before training). bench downloads nothing for it: the
files are the user's, and their absence is a `DataError` saying where they were looked for.

The spec lists the files it reads (`files=`), so the data's fingerprint is made from their bytes (the md5
of each, suite/core/data/fingerprint.py): every trial pins it in its config (`data_fingerprint`, part of
its hash) and stores it in its rows (`data_fingerprint`, `data_sources`), a report names the data by it,
and editing either file makes new trials rather than reusing those of the old data.

    python docs/examples/csv_dataset.py DIR      # writes a learnable sample: DIR/tabular/{train,test}.csv
    bench run --plugin docs/examples/csv_dataset.py --plugin docs/examples/mlp_model.py --data DIR \
      --dataset tabular --model mlp64 --method dwf --depth 2 --lam 1e-4 --epochs 2

It uses only the public dataset API: `DatasetSpec`, `DATASETS.register`, `DataBundle`, `DataError` and
`missing_message` (docs/extending.md, "Add a model or a dataset").
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from suite.core.data.bundle import DataBundle
from suite.core.data.registry import DATASETS, DatasetSpec
from suite.core.data.root import DataError, missing_message

NAME = "tabular"
FEATURES = 16
CLASSES = 4
FILES = (f"{NAME}/train.csv", f"{NAME}/test.csv")  # relative to the data root


def read_split(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(features float32 (N, FEATURES), labels int64 (N,)) of one CSV file; DataError if it is malformed."""
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: not a CSV of numbers ({exc})") from None
    if table.shape[1] != FEATURES + 1 or table.shape[0] == 0:
        raise DataError(f"{path}: {table.shape[0]} rows of {table.shape[1]} columns; allowed: rows of "
                        f"{FEATURES} features and a label")
    labels = table[:, -1]
    if not (np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() < CLASSES):
        raise DataError(f"{path}: labels must be integers in 0..{CLASSES - 1}")
    return torch.from_numpy(table[:, :-1]).to(torch.float32), torch.from_numpy(labels).to(torch.int64)


def load_tabular(root: Path, download: bool) -> DataBundle:
    """The loader: `(data root, download allowed)` -> the whole dataset as tensors."""
    where = root / NAME
    missing = [rel for rel in FILES if not (root / rel).is_file()]
    if missing:  # nothing to download: the files are the user's
        raise DataError(missing_message(NAME, root, where, f"{', '.join(missing)} missing and bench cannot "
                                        "download it (python docs/examples/csv_dataset.py DIR writes a sample)"))
    (train_x, train_y), (test_x, test_y) = (read_split(root / rel) for rel in FILES)
    mean, std = train_x.mean(dim=0), train_x.std(dim=0).clamp_min(1e-8)  # the training split's statistics only
    shape = (1, 1, FEATURES)
    return DataBundle(NAME, CLASSES, shape, ((train_x - mean) / std).reshape(-1, *shape), train_y,
                      ((test_x - mean) / std).reshape(-1, *shape), test_y, augment=False)


TABULAR = DATASETS.register(DatasetSpec(
    name=NAME,
    loader=load_tabular,
    description=f"{FEATURES} features, {CLASSES} classes from the user's CSV files {' and '.join(FILES)} (a plugin)",
    title="Tabular (CSV)",
    input_shape=(1, 1, FEATURES),  # known without reading the files: models are built (and checked) from these
    num_classes=CLASSES,
    files=FILES,  # the fingerprint is made from these files' bytes
))


def write_sample(root: Path, seed: int = 0, n_train: int = 512, n_test: int = 128) -> list[Path]:
    """Write a small learnable sample under `root`: each class a Gaussian blob around its own random centre.
    The bytes are a function of `seed`, so another seed is other data with another fingerprint."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, size=(CLASSES, FEATURES))
    written = []
    for rel, n in zip(FILES, (n_train, n_test)):
        labels = np.arange(n) % CLASSES
        rng.shuffle(labels)
        features = centres[labels] + rng.normal(0.0, 0.8, size=(n, FEATURES))
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        header = ",".join([f"x{i}" for i in range(FEATURES)] + ["label"])
        np.savetxt(path, np.column_stack([features, labels]), delimiter=",", header=header, comments="",
                   fmt=["%.5f"] * FEATURES + ["%d"])
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python docs/examples/csv_dataset.py DATA_ROOT")
    for path in write_sample(Path(sys.argv[1])):
        print(path)
