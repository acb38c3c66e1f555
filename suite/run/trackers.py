"""Experiment-tracker logging of a sweep's trials through Ray Tune's own integrations (off by default).

What is asked for is checked here, without Ray; `suite.run.ray.tuner.tracker_callbacks` makes the callbacks.
`--log-to tensorboard` adds Ray's `TBXLoggerCallback`, writing each trial's event file under
`<results>/<sweep>/tensorboard/<trial>/` (`tensorboard --logdir` there), not into Tune's scratch folder,
which a sweep removes. `--log-to mlflow` adds Ray's `MLflowLoggerCallback`: every trial becomes an
MLflow run of the experiment named after the sweep, with the trial's parameters (its config hash, or the
config the adaptive search asked for) and the metrics the worker reports (test accuracy, compression ratio,
status, seconds). The tracking URI is `--mlflow-uri`, else $MLFLOW_TRACKING_URI, else an SQLite file
beside the sweep's results (`<results>/<sweep>/mlflow.db`). The Parquet store stays the record; the
tracker is a view of it. MLflow is an optional dependency (`pip install -e '.[tracking]'`).
"""

from __future__ import annotations

import os
from pathlib import Path

TRACKERS = ("mlflow", "tensorboard")


class TrackerError(ValueError):
    """A tracker that is not known, or whose library is not installed; the message says what is allowed."""


def tracker_entries(names: list[str], results: str, sweep: str, mlflow_uri: str | None = None) -> tuple:
    """(name, target) per tracker asked for, checked before anything runs (TrackerError otherwise)."""
    entries = []
    for name in names:
        if name not in TRACKERS:
            raise TrackerError(f"--log-to {name}: allowed: {', '.join(TRACKERS)}")
        if name == "tensorboard":
            if "://" in str(results):
                raise TrackerError("--log-to tensorboard writes beside the results: it needs a local results root")
            entries.append((name, str(Path(results).expanduser().resolve() / sweep / "tensorboard")))
            continue
        try:
            import mlflow  # noqa: F401 - only to say it is missing before the sweep starts
        except ImportError as exc:
            raise TrackerError(f"--log-to mlflow needs the mlflow package ({exc}); install it with "
                               "pip install -e '.[tracking]'") from None
        uri = mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
        if uri is None:
            if "://" in str(results):
                raise TrackerError("--log-to mlflow with a results URI: give --mlflow-uri or MLFLOW_TRACKING_URI")
            folder = Path(results).expanduser().resolve() / sweep
            folder.mkdir(parents=True, exist_ok=True)
            uri = f"sqlite:///{folder / 'mlflow.db'}"
        entries.append((name, uri))
    return tuple(entries)


__all__ = ["TRACKERS", "TrackerError", "tracker_entries"]
