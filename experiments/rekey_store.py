"""Re-key stored trials whose hash no longer matches their config (a one-off store repair).

Why: commit 121b2da changed `omega_min`'s default from 3e-3 to None (App. G.2's
3e-3 read as a bound on the product). Trials stored before it carry
`omega_min: 0.003` in their config; with the hash over non-default fields, that
value is now part of their identity, so:

* dense, SNIP, SynFlow, ... (which never read the DWF-init fields) are keyed
  right (the old hash left the then-default out) but their stored config reads
  back as a different trial;
* the ω_min probes that ran the factor reading (explicit 3e-3) are the right
  configs under a stale hash.

For a method that does not read the DWF-init fields those fields are reset to
their defaults (the stored result is exactly what the current config trains);
then every trial whose stored config or hash differs is rewritten under the hash of its config (rows, layers and
history; `config_json` too), the dense checkpoint is renamed with it, and the
old files are removed. A trial whose new hash is already stored is left alone
and reported. tests/test_stored_identity.py checks the result.

Usage: python experiments/rekey_store.py results/reference [--dry-run]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from suite.config import DEFAULTS, DWF_INIT_FIELDS, TrialConfig
from suite.methods.base import METHODS
from suite.results.layout import TABLE_NAMES



def current_config(config_json: str) -> TrialConfig:
    values = json.loads(config_json)
    if not METHODS.get(values["method"]).factorized:
        values.update({name: DEFAULTS[name] for name in DWF_INIT_FIELDS})
    return TrialConfig.from_dict(values)


def rekey(root: Path, dry_run: bool) -> None:
    for rows_file in sorted(root.glob("**/rows/*.parquet")):
        sweep_dir, old = rows_file.parent.parent, rows_file.stem
        rows = pq.read_table(rows_file)
        config = current_config(rows.column("config_json")[0].as_py())
        new = config.config_hash
        text = json.dumps(config.to_dict(), sort_keys=True, default=list)
        stored = TrialConfig.from_dict(json.loads(rows.column("config_json")[0].as_py()))
        # By identity: a config stored before a defaulted field existed lacks its key and is the same trial.
        if new == old and stored.identity() == config.identity():
            continue
        if new != old and (sweep_dir / "rows" / f"{new}.parquet").exists():
            print(f"SKIP {rows_file}: {new} is already stored")
            continue
        print(f"{sweep_dir.relative_to(root)}: {old} -> {new}  {config.identity()}")
        if dry_run:
            continue
        for table_name in TABLE_NAMES:
            path = sweep_dir / table_name / f"{old}.parquet"
            if not path.exists():
                continue
            table = pq.read_table(path)
            table = table.set_column(table.schema.get_field_index("config_hash"), "config_hash",
                                     pa.array([new] * table.num_rows, table.schema.field("config_hash").type))
            if "config_json" in table.schema.names:
                table = table.set_column(table.schema.get_field_index("config_json"), "config_json",
                                         pa.array([text] * table.num_rows, table.schema.field("config_json").type))
            # The rows file is written last: it is what marks a trial done.
            target = path.with_name(f"{new}.parquet")
            pq.write_table(table, target)
        if new == old:
            continue
        for table_name in ("history", "layers", "rows"):
            (sweep_dir / table_name / f"{old}.parquet").unlink(missing_ok=True)
        checkpoint = root / "checkpoints" / f"{old}.pt"
        if checkpoint.exists():
            checkpoint.rename(checkpoint.with_name(f"{new}.pt"))
            checkpoint.with_suffix(".lock").unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    rekey(args.root, args.dry_run)
