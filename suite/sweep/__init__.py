"""Sweep specs: YAML loading, validation, grid expansion and overrides."""
