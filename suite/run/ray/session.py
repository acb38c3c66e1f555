"""Start a local Ray instance or join a cluster, count the trial slots, and shut down what was started here.

Local Ray by default (`ray.init(address="local", num_cpus=...)`, no dashboard,
quiet logs); `address` joins an existing cluster ("auto", "HOST:6379",
"ray://HOST:10001"). An unreachable address fails fast with a message naming it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import time
from dataclasses import dataclass
from typing import Iterator

import ray

from suite.run.outcome import RunOptions, TuneSetupError
from suite.run.cluster.gpu_share import resolve_share
from suite.run.guard.process import interrupt_on_sigterm
from suite.sweep.spec import Spec


def check_address(address: str, timeout: float = 5.0) -> None:
    """Fail fast (TuneSetupError) if `address` is not a reachable Ray cluster address."""
    if address in ("auto", "local"):
        return
    if address.startswith(("http://", "https://")):
        raise TuneSetupError(
            f"--address {address!r} looks like a dashboard / Jobs API address; `bench sweep --address` needs the "
            f"cluster (GCS) address, e.g. HOST:6379 or ray://HOST:10001. To submit to {address} use "
            f"`bench submit NAME --address {address}`.")
    hostport = address.split("://", 1)[1] if "://" in address else address
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise TuneSetupError(f"--address {address!r} is not HOST:PORT, ray://HOST:PORT or 'auto'")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise TuneSetupError(
            f"cannot reach a Ray cluster at {address!r} ({exc.strerror or exc}). Is it running "
            f"(`ray start --head` listens on port 6379)? Omit --address to run on a local Ray instance.") from None


def _quiet_ray_logging() -> None:
    for name in ("ray", "ray.tune", "ray.train", "ray._private", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def start_ray(options: RunOptions) -> float:
    """Connect to / start Ray; returns the seconds it took (0 if already connected)."""
    if ray.is_initialized():
        return 0.0
    _quiet_ray_logging()
    start = time.perf_counter()
    if options.address:
        check_address(options.address)
        try:
            ray.init(address=options.address, logging_level=logging.ERROR, log_to_driver=False)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is reported the same way
            raise TuneSetupError(f"cannot connect to the Ray cluster at {options.address!r}: {exc}") from None
    else:
        ray.init(address="local", num_cpus=options.num_cpus or os.cpu_count() or 1, logging_level=logging.ERROR,
                 log_to_driver=False, include_dashboard=False)
    _quiet_ray_logging()
    return time.perf_counter() - start


def cluster_slots(cpus_per_trial: float, gpus_per_trial: float) -> int:
    """How many trials the connected cluster runs at once."""
    resources = ray.cluster_resources()
    slots = math.floor(resources.get("CPU", 0) / cpus_per_trial + 1e-9)
    if gpus_per_trial > 0:
        slots = min(slots, math.floor(resources.get("GPU", 0) / gpus_per_trial + 1e-9))
    return max(slots, 0)


@dataclass
class RaySession:
    start_s: float  # seconds Ray took to start or join (0 if it was already up)
    concurrency: int  # trials run at once: the cluster's slots, capped by --max-concurrent
    gpus_per_trial: float = 0.0  # the spec's, or (auto) the packing rule's where Ray sees GPUs
    warning: str | None = None  # GPUs visible but left idle


@contextlib.contextmanager
def ray_session(options: RunOptions, spec: Spec) -> Iterator[RaySession]:
    """Ray up for this sweep (TuneSetupError if one trial does not fit the cluster); shut down if started here."""
    started_here = not ray.is_initialized()
    try:
        start_s = start_ray(options)
        interrupt_on_sigterm()  # ray.init installed its own SIGTERM handler (sys.exit)
        have = ray.cluster_resources()
        gpus, warning = resolve_share(spec.gpus_per_trial, have.get("GPU", 0), spec.model, spec.dataset)
        slots = cluster_slots(spec.cpus_per_trial, gpus)
        if slots < 1:
            raise TuneSetupError(
                f"the Ray cluster has {have.get('CPU', 0):g} CPU(s) and {have.get('GPU', 0):g} GPU(s); one trial "
                f"asks for {spec.cpus_per_trial:g} CPU(s) and {gpus:g} GPU(s). Lower "
                f"--cpus-per-trial / --gpus-per-trial (or `resources:` in {spec.path})")
        concurrency = min(slots, options.max_concurrent) if options.max_concurrent else slots
        yield RaySession(start_s, concurrency, gpus, warning)
    finally:
        if started_here and ray.is_initialized():
            ray.shutdown()


__all__ = ["RaySession", "check_address", "cluster_slots", "ray_session", "start_ray"]
