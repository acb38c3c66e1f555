"""Stated limits on how a trial runs (what it is: config.py's fields, with theirs), checked before any work.

Threads: torch's pool of a `bench run` lives on this machine; more threads than
4 per CPU only contend, and a pool of 100,000 crashes torch (issue 28). A sweep
trial's threads are its `cpus_per_trial`, counted on a node of a cluster this
machine may not be part of, so that is bounded by the largest node there is
(1024 CPUs), not by this machine.
"""

from __future__ import annotations

import os

from suite.config import is_integer, is_number

THREADS_PER_CPU = 4
MAX_CPUS_PER_TRIAL = 1024


def max_threads() -> int:
    return THREADS_PER_CPU * (os.cpu_count() or 1)


def threads_problem(value: object, flag: str = "--threads") -> str | None:
    """None when `value` is a thread count this machine can run, else the message naming what is allowed."""
    limit = max_threads()
    if is_integer(value) and 1 <= value <= limit:
        return None
    return (f"{flag} {value}: allowed: an integer >= 1 and <= {limit} ({THREADS_PER_CPU} per CPU of this "
            f"machine, which has {os.cpu_count() or 1}; more only contend)")


def cpus_per_trial_problem(value: object, flag: str = "cpus_per_trial") -> str | None:
    """None when `value` is a CPU share a trial can hold on some node, else the message naming what is allowed."""
    if is_number(value) and 0 < value <= MAX_CPUS_PER_TRIAL:
        return None
    return f"{flag} {value}: allowed: a number in (0, {MAX_CPUS_PER_TRIAL}] (the CPUs, and torch threads, of one trial)"


__all__ = ["MAX_CPUS_PER_TRIAL", "THREADS_PER_CPU", "cpus_per_trial_problem", "max_threads", "threads_problem"]
