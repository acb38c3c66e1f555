"""Every trial in the committed reference store keeps its identity across code changes.

The store skips a trial whose config hash it already holds, so a refactor that
changed how a config hashes would silently retrain the whole reference run and
show the old rows as separate configurations. The committed store is the
record of which hashes the code has produced: each row's stored config must
hash to the stored hash today.
"""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import suite.builtins  # noqa: F401  the methods registered: each stored config is read through its own parameters
from suite.config import TrialConfig, UnregisteredParams

REFERENCE = Path(__file__).resolve().parents[1] / "results"  # the reference stores and the archived ones
ROW_FILES = sorted(REFERENCE.glob("**/rows/*.parquet"))


def test_the_reference_store_is_there():
    assert len(ROW_FILES) >= 20, f"expected the committed reference store under {REFERENCE}"


@pytest.mark.parametrize("path", ROW_FILES, ids=lambda p: str(p.relative_to(REFERENCE)))
def test_a_stored_config_hashes_to_its_stored_hash(path):
    table = pq.read_table(path, columns=["config_hash", "config_json"]).to_pylist()
    for row in table:
        config = TrialConfig.from_dict(json.loads(row["config_json"]))
        # Read as its method's parameters, not as raw values (which would hash to anything they were given).
        assert not isinstance(config.params, UnregisteredParams), config.method
        assert config.config_hash == row["config_hash"] == path.stem
