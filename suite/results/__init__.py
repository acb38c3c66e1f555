"""The result store: one API (store.py) over one file layout (layout.py), durable bytes (files.py),
checks on what is read back (check.py), the schemas (schema.py) and the dense-checkpoint cache (checkpoints.py).
It knows files and tables, not methods, and nothing of how sweeps are run."""
