"""Whether and how DWF's fused factor step (`suite/core/dwf/step.py`) is compiled.

`$BENCH_COMPILE` decides, per process:

* unset or `auto` (default): compiled when this machine can (a C++ compiler
  on CPU, Triton on CUDA, and a first tiny compile in the process succeeds),
  else the eager path, with a warning when the compile failed;
* `1` / `on`: compiled, and an error naming what is missing when it cannot be;
* `0` / `off`: the eager path (`FactorProducts` and torch's fused SGD).

Compiling takes a few seconds per network shape and depth (Inductor caches it
on disk across processes; the learning rate, weight decay and momentum are
tensor inputs, so a schedule or another λ does not recompile). A 75-epoch
LeNet-300-100 trial has some 17,600 steps, so it pays back within the first
epoch (benchmarks/speed.py prints the compile time and the pay-back).
Compiled eagerly, the fused step would be slower than the eager path, since
nothing is fused: that is why the eager path is the fallback, not it.

On a machine with a CUDA toolkit but no CUDA device (e.g. `nvcc` on PATH, a
CPU-only run), Inductor's C++ build imports `torch.utils.cpp_extension`, which
logs "No CUDA runtime is found, using CUDA_HOME=..." once per process. CPU
compiles never use CUDA_HOME, so that one message is filtered out (nothing
else from that logger is).
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings

import torch

ENV = "BENCH_COMPILE"
_ENV_VALUES = {"": None, "auto": None, "0": False, "off": False, "1": True, "on": True}
# Distinct networks (depths, architectures) one process compiles for, e.g. the
# speed benchmark's D = 2, 3, 4; torch's default limit of 8 is per function.
_RECOMPILE_LIMIT = 64


def compile_setting() -> bool | None:
    """$BENCH_COMPILE read: True (must compile), False (never), None (auto)."""
    value = os.environ.get(ENV, "").strip().lower()
    if value not in _ENV_VALUES:
        raise ValueError(f"${ENV}={value!r} not allowed; allowed: auto (default), 1/on, 0/off")
    return _ENV_VALUES[value]


def compiler_missing(device: torch.device) -> str | None:
    """Why torch.compile cannot run on `device` here, or None when it can."""
    if device.type == "cpu" and not any(shutil.which(cc) for cc in ("c++", "g++", "clang++")):
        return "Inductor on CPU needs a C++ compiler (c++, g++ or clang++) on PATH"
    if device.type == "cuda":
        try:
            import triton  # noqa: F401
        except ImportError:
            return "Inductor on CUDA needs the triton package"
    if device.type not in ("cpu", "cuda"):
        return f"the fused step is compiled for cpu and cuda only, not {device.type}"
    return None


def fused_step_wanted(device: torch.device) -> bool:
    """Whether DWF trains with the compiled fused factor step on `device` (see the module docstring)."""
    setting = compile_setting()
    if setting is False:
        return False
    reason = compiler_missing(device)
    if reason and setting:
        raise RuntimeError(f"${ENV}=1 asks for the compiled DWF step on {device}, but {reason}; "
                           f"allowed: install it, or ${ENV}=auto / 0 for the eager path")
    if reason is None and setting is None:
        # A compiler on PATH is not proof (missing headers, no OpenMP): auto tries it once on a
        # tiny input and falls back to the eager path, rather than fail every DWF trial.
        reason = _compile_fails(device)
        if reason:
            warnings.warn(f"the compiled DWF step does not compile on {device} ({reason}); training eagerly "
                          f"(set ${ENV}=0 to skip the attempt, ${ENV}=1 to make it an error)", stacklevel=2)
    return reason is None


_probed: dict[str, str | None] = {}  # device type -> why compiling failed there (None: it works)


def _compile_fails(device: torch.device) -> str | None:
    if device.type not in _probed:
        try:
            ones = lambda: torch.ones(2, device=device)  # noqa: E731
            scalar = lambda v: torch.tensor(v, device=device)  # noqa: E731
            compiled_factor_sgd()([ones()], [ones()], [[ones(), ones()]], [[ones(), ones()]],
                                  scalar(0.1), scalar(0.0), scalar(0.9))
            _probed[device.type] = None
        except Exception as exc:  # noqa: BLE001 - any failure of the toolchain means: do not use it
            _probed[device.type] = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}"
    return _probed[device.type]


_compiled: dict[str, object] = {}
_NO_CUDA_NOTICE = "No CUDA runtime is found"


class _NoCudaRuntimeNotice(logging.Filter):
    """Drops torch.utils.cpp_extension's import-time CUDA_HOME notice, only when no CUDA device is used."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_NO_CUDA_NOTICE)


def _quiet_cuda_home_notice() -> None:
    # The notice is logged while cpp_extension is imported (by Inductor's C++ build, inside the
    # first compile), so the filter goes on the logger before torch.compile runs.
    logger = logging.getLogger("torch.utils.cpp_extension")
    if not torch.cuda.is_available() and not any(isinstance(f, _NoCudaRuntimeNotice) for f in logger.filters):
        logger.addFilter(_NoCudaRuntimeNotice())


def compiled_factor_sgd():
    """`suite.core.dwf.step.factor_sgd`, compiled once per process (static shapes: a network
    has a few fixed factor shapes, and a static kernel per shape is the fastest)."""
    if "fn" not in _compiled:
        from suite.core.dwf.step import factor_sgd
        _quiet_cuda_home_notice()
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, _RECOMPILE_LIMIT)
        # A trial holds one CPU (Ray's cpus_per_trial): no pool of compile workers.
        torch._inductor.config.compile_threads = 1
        _compiled["fn"] = torch.compile(factor_sgd, fullgraph=True, dynamic=False)
    return _compiled["fn"]


__all__ = ["ENV", "compile_setting", "compiled_factor_sgd", "compiler_missing", "fused_step_wanted"]
