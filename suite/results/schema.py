"""The store's table schemas: the result-row contract (DESIGN.md) and the side tables."""

from __future__ import annotations

import pyarrow as pa

# The result-row contract (DESIGN.md). Accuracies are fractions in [0, 1];
# compression_ratio = total_params / nonzero_params over the counted parameters.
ROW_SCHEMA = pa.schema(
    [
        ("sweep", pa.string()),
        ("method", pa.string()),
        ("model", pa.string()),
        ("dataset", pa.string()),
        ("depth", pa.int64()),
        ("lam", pa.float64()),
        ("lr", pa.float64()),
        ("target_compression", pa.float64()),
        ("seed", pa.int64()),
        ("epochs", pa.int64()),
        # Which evaluation of the trial this row is: "final" (the trained
        # network as is: DWF collapsed, pruned-at-init masked, dense, L1's
        # inherent sparsity) or "posthoc" (magnitude-pruned after training).
        ("point", pa.string()),
        ("point_id", pa.int64()),
        # "ok"; "collapsed" (every counted weight zero: stopped early); "diverged" (NaN loss: chance accuracy)
        ("status", pa.string()),
        ("test_acc", pa.float64()),
        ("train_acc", pa.float64()),
        ("test_loss", pa.float64()),
        ("train_loss", pa.float64()),
        ("total_params", pa.int64()),
        ("nonzero_params", pa.int64()),
        ("compression_ratio", pa.float64()),
        ("sparsity", pa.float64()),
        ("l2_norm", pa.float64()),
        ("misalignment", pa.float64()),
        ("config_hash", pa.string()),
        ("config_json", pa.string()),
        ("device", pa.string()),
        ("wall_time_s", pa.float64()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        # Provenance (suite.provenance; null in rows written before it): the data's fingerprint and its
        # sources ({relative path: md5} as JSON), the code, the libraries, the threads and the host.
        ("data_fingerprint", pa.string()),
        ("data_sources", pa.string()),
        ("bench_version", pa.string()),
        ("git_commit", pa.string()),
        ("torch_version", pa.string()),
        ("python_version", pa.string()),
        ("threads", pa.int64()),
        ("hostname", pa.string()),
    ]
)

LAYER_SCHEMA = pa.schema(
    [
        ("config_hash", pa.string()),
        ("point_id", pa.int64()),
        ("layer", pa.string()),
        ("layer_index", pa.int64()),
        ("total_params", pa.int64()),
        ("nonzero_params", pa.int64()),
    ]
)

HISTORY_SCHEMA = pa.schema(
    [
        ("config_hash", pa.string()),
        ("epoch", pa.int64()),
        ("lr", pa.float64()),
        ("train_loss", pa.float64()),
        ("train_acc", pa.float64()),
        ("test_loss", pa.float64()),
        ("test_acc", pa.float64()),
        ("compression_ratio", pa.float64()),
        ("l2_norm", pa.float64()),
        ("misalignment", pa.float64()),
        ("reg_strength", pa.float64()),
        ("epoch_time_s", pa.float64()),
    ]
)

TABLES = {"rows": ROW_SCHEMA, "layers": LAYER_SCHEMA, "history": HISTORY_SCHEMA}

__all__ = ["HISTORY_SCHEMA", "LAYER_SCHEMA", "ROW_SCHEMA", "TABLES"]
