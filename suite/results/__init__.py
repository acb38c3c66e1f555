"""The result store: one API (store.py) over one file layout (layout.py), durable bytes (files.py),
checks on what is read back (check.py), the schemas (schema.py), the dense-checkpoint cache and the driver lock."""
