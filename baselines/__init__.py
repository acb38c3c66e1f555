"""Comparison methods, one module each; importing this package registers them."""

from baselines import gmp, l1, pilot, random, snip, synflow  # noqa: F401  (registration)
