"""The built-in methods, registered one line each: the benchmark's own (suite/methods/: the dense
reference, DWF and spred) and the comparison methods (baselines/), which use the same public method API
(suite.methods.base) a user's plugin does.

Every module that looks a method up by name imports `METHODS` from here, so the built-ins are registered
before any lookup; the registry itself is `suite.methods.base.METHODS`, where a plugin registers its own.
The order below means nothing: tables and figures follow each method's `paper_order`, the registry and
`bench list` the names.
"""

from baselines.gmp import GMP, GMP_ONESHOT
from baselines.l1 import L1
from baselines.pilot import PILOT
from baselines.random import RANDOM
from baselines.snip import SNIP
from baselines.synflow import SYNFLOW
from suite.methods.base import METHODS
from suite.methods.dense import DENSE
from suite.methods.dwf import DWF
from suite.methods.spred import SPRED

METHODS.register(DENSE)
METHODS.register(DWF)
METHODS.register(SPRED)
METHODS.register(PILOT)
METHODS.register(L1)
METHODS.register(GMP)
METHODS.register(GMP_ONESHOT)
METHODS.register(SNIP)
METHODS.register(SYNFLOW)
METHODS.register(RANDOM)

BUILT_IN = (DENSE, DWF, SPRED, PILOT, L1, GMP, GMP_ONESHOT, SNIP, SYNFLOW, RANDOM)

__all__ = ["BUILT_IN", "METHODS"]
