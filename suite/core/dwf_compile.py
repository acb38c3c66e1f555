"""Optional: every DWF product of a network in one torch.compile'd call per forward.

The eager path (suite/core/dwf_product.py) runs one autograd node per network,
but each of its D-1 forward and 2(D-1) backward products is a separate pass
over memory. Compiled, Inductor fuses each tensor's forward into one loop
(read D factors, write w) and its backward into one loop (read g and the D
factors, write the D gradients). The network's composer (suite/core/dwf.py)
makes one call per forward for all tensors, so the per-call cost of the
compiled function (guards, wrappers) is paid once per step, not once per
tensor; compiled per tensor it cost more than it saved on LeNet-300-100.
The product traced is the plain chain w = omega_1 * ... * omega_D:
AOTAutograd derives its backward without division, like FactorProducts.

On the shared 2-core CPU this was developed on it gained nothing over the
eager node of one product per network (benchmarks/speed.py, batch 256: D=4
1.41x dense compiled, 1.45x eager, D=2 1.23x and 1.19x): there the cost
left is reading the factors from memory, which fusing does not avoid. The
case it is meant for is a GPU, where each eager product is a kernel launch. Compiling takes seconds per network
shape (Inductor caches it on disk across processes), so it is off unless
asked for (`BENCH_COMPILE=1`, or `compile_products` directly). It needs a C++
compiler on CPU, Triton on a GPU.
"""

from __future__ import annotations

import os
import shutil

import torch
from torch import nn

from suite.core.dwf import COMPOSER

ENV = "BENCH_COMPILE"
_ENV_VALUES = {"0": False, "off": False, "": False, "1": True, "on": True}
# Distinct networks (depths, architectures) one process compiles for, e.g. the
# speed benchmark's D = 2, 3, 4; torch's default limit of 8 is per function.
_RECOMPILE_LIMIT = 64


def compile_requested() -> bool:
    """Whether $BENCH_COMPILE asks for compiled DWF products (default: no)."""
    value = os.environ.get(ENV, "").strip().lower()
    if value not in _ENV_VALUES:
        raise ValueError(f"${ENV}={value!r} not allowed; allowed: {sorted(k for k in _ENV_VALUES if k)} or unset")
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
    return None


def _chain_products(groups: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    outs = []
    for factors in groups:
        out = factors[0]
        for factor in factors[1:]:
            out = out * factor
        outs.append(out)
    return outs


_compiled = {}


def _compiled_chain():
    if "fn" not in _compiled:
        limit = max(torch._dynamo.config.recompile_limit, _RECOMPILE_LIMIT)
        torch._dynamo.config.recompile_limit = limit
        # Static shapes: a network has a few fixed factor shapes, and a static
        # kernel per shape is the fastest.
        _compiled["fn"] = torch.compile(_chain_products, dynamic=False)
    return _compiled["fn"]


def compile_products(model: nn.Module) -> bool:
    """Form all of `model`'s DWF products with one compiled call in each
    forward that records gradients; returns False (and changes nothing) when
    `model` has no factorized tensor. Forwards without autograd (evaluation)
    keep the eager products: nothing there to fuse with a backward."""
    composer = model.__dict__.get(COMPOSER)
    if composer is None:
        return False
    device = composer.entries[0][2][0].device
    reason = compiler_missing(device)
    if reason:
        raise RuntimeError(f"cannot compile the DWF products on {device}: {reason}; unset ${ENV} to run eagerly")
    composer.compiled = _compiled_chain()
    return True


def uncompile_products(model: nn.Module) -> None:
    """Back to the eager products."""
    composer = model.__dict__.get(COMPOSER)
    if composer is not None:
        composer.compiled = None
