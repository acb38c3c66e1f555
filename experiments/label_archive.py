"""Label an archived store's rows with the data they were trained on, from that data's published checksums.

Until 2026-12-07 `../shared/data/FashionMNIST/` held a rebuild of Fashion-MNIST that is not the official
split (`../shared/data/README.md`): its image files had md5 2b219d4bba8ec803a27fcd1f2edeb80b (train) and
b381b677e63e3de2271935df7df8a242 (test); its label files were the official ones. Every `fmnist` row
stored before then was trained on it, and rows of that time carry no data fingerprint. This script
writes the fingerprint of those files (`suite.core.fingerprint.fingerprint_of_checksums`, the rule
every new row's fingerprint follows) and their checksums into the `data_fingerprint` / `data_sources`
columns of every `fmnist` rows file under the given folder that has none. The config (and so the
hash) of each row is left as it was; nothing else is changed. Files are rewritten atomically.

Usage: python experiments/label_archive.py results/archive/rebuilt-fmnist-split [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from suite.core.fingerprint import fingerprint_of_checksums
from suite.results.schema import ROW_SCHEMA

REBUILT_FMNIST = {  # ../shared/data/README.md: the rebuild's image files, the official label files
    "FashionMNIST/raw/train-images-idx3-ubyte": "2b219d4bba8ec803a27fcd1f2edeb80b",
    "FashionMNIST/raw/train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "FashionMNIST/raw/t10k-images-idx3-ubyte": "b381b677e63e3de2271935df7df8a242",
    "FashionMNIST/raw/t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}


def labelled(table: pa.Table, fingerprint: str, sources: str) -> pa.Table | None:
    """The table with the data columns filled, or None when it needs nothing (labelled, or not fmnist)."""
    if set(table.column("dataset").to_pylist()) != {"fmnist"}:
        return None
    names = table.schema.names
    if "data_fingerprint" in names and all(v is not None for v in table.column("data_fingerprint").to_pylist()):
        return None
    for name, value in (("data_fingerprint", fingerprint), ("data_sources", sources)):
        column = pa.array([value] * table.num_rows, type=ROW_SCHEMA.field(name).type)
        table = table.set_column(names.index(name), name, column) if name in names else table.append_column(
            ROW_SCHEMA.field(name), column)
        names = table.schema.names
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    fingerprint = fingerprint_of_checksums(REBUILT_FMNIST)
    sources = json.dumps(REBUILT_FMNIST, sort_keys=True)
    changed = 0
    for path in sorted(args.folder.glob("**/rows/*.parquet")):
        table = labelled(pq.read_table(path), fingerprint, sources)
        if table is None:
            continue
        changed += 1
        if not args.dry_run:
            temporary = path.with_suffix(".parquet.tmp")
            pq.write_table(table, temporary)
            os.replace(temporary, path)
    print(f"{'would label' if args.dry_run else 'labelled'} {changed} rows file(s) under {args.folder} with data "
          f"{fingerprint} (the rebuilt Fashion-MNIST of ../shared/data before 2026-12-07)")


if __name__ == "__main__":
    main()
