"""What a sweep shows while it runs: a live bar on a terminal, one line per finished trial. No Ray here.

The Ray backend feeds a `Phase` (one Tune run: the grid, one lr search, an
adaptive run) with trial starts and ends; the Phase keeps the counts and the
`TrialRecord`s the summary is made of.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from rich.markup import escape

from suite.run.outcome import TrialRecord


def describe(cfg: dict) -> str:
    """A trial config as one short line: method, depth, λ, lr, targets, seed."""
    parts = [cfg["method"]]
    if cfg.get("depth") is not None:
        parts.append(f"D={cfg['depth']}")
    if cfg.get("lam") is not None:
        parts.append(f"λ={cfg['lam']:.3g}")
    parts.append(f"lr={cfg['lr']:.3g}")
    if cfg.get("compressions"):
        cs = list(cfg["compressions"])
        parts.append(f"CR={cs[0]:.4g}" if len(cs) == 1 else f"CR={cs[0]:.3g}..{cs[-1]:.3g} ({len(cs)})")
    parts.append(f"seed={cfg['seed']}")
    return " ".join(parts)


def format_duration(seconds: float | None) -> str:
    """Seconds as 42s, 3m05s or 2h07m; "?" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


class Phase:
    """Counts and a live line for one Tune run (the grid, one lr search or an adaptive run).

    An adaptive run does not know its trial count in advance, only a bound that shrinks as its
    cells resolve: it passes `remaining` (the trials still to come, at most, including those
    queued and running) instead of `total`; the total is then the trials finished plus that
    bound, recomputed after every trial, shown as a bound ("[12/≤340]"), and the time left,
    that bound at the pace so far ("left at most ~5h40m": the worst case, every cell using its whole
    budget; a search usually stops far sooner, though its last rounds run fewer trials side by side).
    """

    def __init__(self, title: str, total: int | None, configs: dict[str, dict], console: Any | None,
                 remaining: Callable[[], int] | None = None, detail: Callable[[], str] | None = None):
        if (total is None) == (remaining is None):
            raise ValueError("Phase: give the trial count (total) or a bound on the trials to come (remaining)")
        self.title, self._total, self.configs, self.console = title, total, configs, console
        # `detail`: how far the work is in its own terms, e.g. an adaptive run's "12 of 56 cells settled",
        # which says more than a worst-case time bound does.
        self.remaining, self.detail = remaining, detail
        self.done = self.failed = self.running = 0
        self.records: list[TrialRecord] = []
        self.first_start: float | None = None
        self._progress = None
        self._task = None

    def __enter__(self) -> "Phase":
        if self.console is not None and self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[state]}"), TimeElapsedColumn(), TextColumn("left {task.fields[eta]}"),
                console=self.console, transient=True)
            self._task = self._progress.add_task(self.title, total=self.total, state=self.state(), eta="?")
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    @property
    def total(self) -> int:
        if self.remaining is None:
            return self._total
        return self.done + self.failed + self.remaining()

    def _count(self) -> str:
        """'4' of a known total, '≤4' of a bound."""
        return str(self.total) if self.remaining is None else f"≤{self.total}"

    def _time_left(self) -> str:
        """'3m05s' of a known total, 'at most ~3m05s' of a bound; '?' before the first trial ends."""
        left = format_duration(self.eta())
        return left if self.remaining is None or left == "?" else f"at most ~{left}"

    def state(self) -> str:
        return f"running {self.running} · failed {self.failed}" + (f" · {self.detail()}" if self.detail else "")

    def eta(self) -> float | None:
        finished = self.done + self.failed
        if not finished or self.first_start is None:
            return None
        return (time.perf_counter() - self.first_start) * (self.total - finished) / finished

    def _refresh(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=self.total, completed=self.done + self.failed,
                                  state=self.state(), eta=self._time_left())

    def started(self, key: str) -> None:
        if self.first_start is None:
            self.first_start = time.perf_counter()
        self.running += 1
        self._refresh()

    def finished(self, key: str, metrics: dict | None, label: str | None = None, crash: str | None = None) -> None:
        self.running = max(0, self.running - 1)
        metrics = metrics or {}
        status = "failed" if crash else metrics.get("status", "failed")
        cfg = self.configs.get(key, {})
        label = label or (describe(cfg) if cfg else key)
        record = TrialRecord(key, label, status, float(metrics.get("train_s", 0.0)), metrics.get("test_acc"),
                             metrics.get("compression_ratio"), crash or metrics.get("error"), metrics)
        self.records.append(record)
        if status == "failed":
            self.failed += 1
        else:
            self.done += 1
        self._refresh()
        if self.console is None:
            return
        n, total = self.done + self.failed, self.total
        head = escape(f"[{n}/{self._count()}] {label}")
        if status == "failed":
            line = f"[red]✗[/] {head}: [red]failed[/] {escape(str(record.error))}"
        else:
            acc = f"acc {100 * record.test_acc:.2f}%" if record.test_acc is not None else ""
            cr = f" CR {record.compression_ratio:.3g}" if record.compression_ratio else ""
            tag = {"diverged": " [yellow]diverged[/]", "reused": " (from store)"}.get(status, "")
            line = f"[green]✓[/] {head}: {acc}{cr}{tag} · {record.seconds:.1f}s"
        tail = f"  ({self.state()} · left {self._time_left()})" if n < total else ""
        self.console.print(line + tail, highlight=False, soft_wrap=True)


__all__ = ["Phase", "describe", "format_duration"]
