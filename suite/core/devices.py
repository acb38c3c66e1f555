"""Checking a `--device` before any work: a named error instead of a torch traceback mid-run."""

from __future__ import annotations

import os

DEVICE_ENV = "BENCH_DEVICE"
ALLOWED = "cpu, cuda, cuda:N (a GPU index), mps"


class DeviceError(ValueError):
    """The device asked for does not exist here; the message names it and what is allowed."""


def check_device(device: str | None) -> str | None:
    """`device` (or $BENCH_DEVICE) if this machine has it; None means "CUDA if present, else CPU"."""
    import torch

    source = "--device"
    if device is None:
        device, source = os.environ.get(DEVICE_ENV) or None, f"${DEVICE_ENV}"
    if device is None:
        return None
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"{source} {device!r} is not a device; allowed: {ALLOWED} ({exc})") from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"{source} {device!r}: this machine has no CUDA GPU (torch sees none); use cpu")
        if parsed.index is not None and parsed.index >= count:
            raise DeviceError(f"{source} {device!r}: this machine has {count} CUDA GPU(s), cuda:0..cuda:{count - 1}")
    elif parsed.type == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceError(f"{source} {device!r}: MPS is not available on this machine; use cpu")
    elif parsed.type != "cpu":
        raise DeviceError(f"{source} {device!r}: device type {parsed.type!r} is not supported; allowed: {ALLOWED}")
    return device


__all__ = ["DEVICE_ENV", "DeviceError", "check_device"]
