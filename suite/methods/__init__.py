"""Sparsification methods, one module each, and the list of the built-in ones.

`suite.methods.base` holds the types (Method, Prepared, EvalPoint) and the
`METHODS` registry; `BUILT_IN` below is the whole set of built-in methods
(its order means nothing: tables and figures follow each method's
`paper_order`, the registry and `bench list` the names). A plugin module adds its own with `METHODS.register(...)`
(sweep specs load plugin modules by name: `plugins:` in the spec).
"""

from suite.methods.base import METHODS
from suite.methods.dense import DENSE
from suite.methods.dwf import DWF
from suite.methods.gmp import GMP, GMP_ONESHOT
from suite.methods.l1 import L1
from suite.methods.pilot import PILOT
from suite.methods.random import RANDOM
from suite.methods.snip import SNIP
from suite.methods.spred import SPRED
from suite.methods.synflow import SYNFLOW

BUILT_IN = (DENSE, DWF, SPRED, PILOT, L1, GMP, GMP_ONESHOT, SNIP, SYNFLOW, RANDOM)

for _method in BUILT_IN:
    METHODS.register(_method)
