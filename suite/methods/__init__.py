"""Sparsification methods, one module each, and their registry.

`suite.methods.base` holds the types (Method, Prepared, EvalPoint) and the
registry; the list below is the whole set of built-in methods (plugins
register theirs through `register_method`).
"""

from suite.methods.base import METHODS, EvalPoint, Method, Prepared, get_method, list_methods, register_method  # noqa: F401
from suite.methods import gmp, l1, pilot, random, snip, synflow  # noqa: F401,E402  (registration)
