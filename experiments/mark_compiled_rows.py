"""One-off provenance fix: rows of the reference store trained with DWF's compiled step before rows said so.

The compiled fused step (suite/core/dwf_step.py) became the default at 8245dd5, and the reference run
used it from 2026-11-23 11:43:21 UTC (its restart on that commit) on; rows have said so in their
`device` column ("cpu (compiled DWF step)") only since 8a08069, whose run started 12:15:25. The DWF
rows created in between say just "cpu". This sets their device text, so that
experiments/rerun_check.py re-runs them on the path that trained them. Nothing else in a row changes
and no config hash moves.

Usage: python experiments/mark_compiled_rows.py results/reference/lenet300_fmnist [--dry-run]
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

START = datetime(2026, 11, 23, 11, 43, 21, tzinfo=timezone.utc)
END = datetime(2026, 11, 23, 12, 15, 25, tzinfo=timezone.utc)
LABEL = "cpu (compiled DWF step)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    changed = 0
    for path in sorted((args.sweep_dir / "rows").glob("*.parquet")):
        table = pq.read_table(path)
        rows = table.to_pylist()
        if not all(r["method"] == "dwf" and r["device"] == "cpu" and START <= r["created_at"] <= END for r in rows):
            continue
        for r in rows:
            r["device"] = LABEL
        changed += 1
        print(f"{path.name}: D={rows[0]['depth']} λ={rows[0]['lam']:g} seed {rows[0]['seed']} "
              f"created {rows[0]['created_at']:%H:%M:%S}")
        if not args.dry_run:
            pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    print(f"{changed} row file(s) {'would be ' if args.dry_run else ''}marked")


if __name__ == "__main__":
    main()
