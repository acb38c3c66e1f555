"""The comparison methods of the benchmark: GMP (retrained and one-shot), SNIP, SynFlow, random pruning,
vanilla L1 and PILoT.

Each is one module written against the public method API (suite.methods.base, suite.methods.masks,
suite.fields), the same a user's plugin uses (docs/examples/magnitude_at_init.py), and is registered by one
line in suite.builtins. Nothing here is imported by the benchmark's machinery except that registration.
"""
