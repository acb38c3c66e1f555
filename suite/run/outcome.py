"""What a sweep run is asked (`RunOptions`) and what it reports (`SweepOutcome`, one `TrialRecord` per trial).

No Ray here: the command line builds the options and prints the outcome
without importing the Ray backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suite.paths import DEFAULT_RESULTS
from suite.results.files import check_root, uri_fs


class TuneSetupError(RuntimeError):
    """Ray could not be started or reached, or the store cannot be used; the message says what to do."""


@dataclass
class RunOptions:
    results: str = DEFAULT_RESULTS
    data: str | None = None
    address: str | None = None
    # Size of the local cluster (default: all cores); ignored with `address`.
    num_cpus: int | None = None
    max_concurrent: int | None = None
    # Search each Table 1 / 2 cell (suite.run.search.bisect.plan) instead of running the whole grid.
    adaptive: bool = False
    # Which search an adaptive run makes: "bisect" (suite.run.search.bisect.plan, each cell alone) or "shared"
    # (suite.run.search.shared: one model per group, seed racing, level estimates).
    search: str = "bisect"
    # The shared search's Table 2 rule: "interpolated" (a level may be estimated between two bracketing
    # configurations) or "measured" (a configuration within tolerance above the level, as bisection lands).
    level_rule: str = "interpolated"


@dataclass
class TrialRecord:
    config_hash: str
    label: str
    status: str  # ok | collapsed | diverged (a row's status) | failed | reused
    seconds: float = 0.0
    test_acc: float | None = None
    compression_ratio: float | None = None
    error: str | None = None
    metrics: dict = field(default_factory=dict)


@dataclass
class SweepOutcome:
    sweep: str
    results: str
    total: int = 0
    already_done: int = 0
    records: list[TrialRecord] = field(default_factory=list)  # the grid's (or adaptive run's) trials run now
    lrs: dict[str, dict] = field(default_factory=dict)  # key -> chosen lr record
    failed_searches: list[str] = field(default_factory=list)
    blocked: int = 0  # trials not run because their lr search failed
    interrupted: bool = False
    ray_started: bool = False
    ray_start_s: float = 0.0
    grid_wall_s: float = 0.0
    search_wall_s: float = 0.0
    wall_s: float = 0.0
    concurrency: int = 0
    adaptive: Any = None  # the suite.run.search.bisect.plan.AdaptivePlan of an adaptive run
    damaged: list = field(default_factory=list)  # store files moved aside before the run (store.Damage)
    error: str | None = None  # what stopped the sweep early (e.g. the store stopped taking writes)
    lock_lost: bool = False  # another driver took the store over while this one was stopped (the error says so)

    @property
    def failed(self) -> list[TrialRecord]:
        return [r for r in self.records if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return (not self.failed and not self.failed_searches and not self.interrupted and not self.blocked
                and not self.error)


def normalize_results(results: str | Path) -> str:
    """A URI stays as is; a local path becomes absolute (workers may run elsewhere). Creates nothing;
    StoreRootError (an OSError) for a URI no filesystem here opens."""
    text = str(results)
    check_root(text)  # StoreRootError: empty, a file, a symbolic link loop, a URI nothing here opens
    if "://" in text:
        uri_fs(text)
        return text.rstrip("/")
    return str(Path(text).expanduser().resolve())


__all__ = ["RunOptions", "SweepOutcome", "TrialRecord", "TuneSetupError", "normalize_results"]
