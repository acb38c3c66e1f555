"""The trial config's field metadata: one list of fields for validation, specs, flags and the hash."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from suite.config import (
    DWF_INIT_FIELDS, FIELDS, IDENTITY_FIELDS, NON_IDENTITY_FIELDS, PROTOCOL_FIELDS, REPLICATE_FIELDS,
    ROW_COLUMN_FIELDS, SWEEPABLE_FIELDS, ConfigError, TrialConfig, check_field,
)
from suite.sweep.checks import METHOD_KEYS, TRAIN_KEYS
from suite.sweep.expansion import expand
from suite.sweep.parsing import parse_spec
from suite.sweep.spec import SpecError

CONFIG_SOURCE = Path(__file__).resolve().parents[1] / "suite" / "config.py"
BASE = {"model": "lenet300", "dataset": "synthetic", "method": "dwf", "depth": 2, "lam": 1e-4}


def test_config_imports_nothing_of_the_suite():
    """Anything may import the config, so it may import nothing that could import it back."""
    tree = ast.parse(CONFIG_SOURCE.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name.split(".")[0] == "suite"}


@pytest.mark.parametrize("name", list(FIELDS))
def test_every_field_explains_itself_and_accepts_its_default(name):
    info = FIELDS[name]
    assert info.help and info.allowed
    default = TrialConfig.__dataclass_fields__[name].default
    if default is not dataclasses.MISSING:
        assert info.accepts(default) and check_field(name, default) == default


def test_only_the_sweep_name_is_not_identity():
    assert set(FIELDS) - set(IDENTITY_FIELDS) == {"sweep"}
    cfg = TrialConfig(**BASE)
    assert dataclasses.replace(cfg, sweep="elsewhere").config_hash == cfg.config_hash


def test_a_bad_value_names_the_field_and_what_is_allowed():
    with pytest.raises(ConfigError,
                       match=r"config field 'momentum' = 1\.5 is not allowed; allowed: a number in \[0, 1\)"):
        TrialConfig(**BASE, momentum=1.5)
    with pytest.raises(ConfigError, match="unknown config field 'lambda'; allowed: .*'lam'"):
        check_field("lambda", 1.0)


def test_integers_in_float_fields_hash_as_floats():
    assert TrialConfig(**BASE, lr=1).config_hash == TrialConfig(**BASE, lr=1.0).config_hash
    assert TrialConfig(**{**BASE, "compressions": [10]}).compressions == (10.0,)


def test_spec_keys_are_the_config_metadata():
    """What a method block and the `train:` block may set follows the metadata, nothing else."""
    assert set(METHOD_KEYS) == {FIELDS[n].singular or n for n in SWEEPABLE_FIELDS}
    assert set(TRAIN_KEYS) == set(PROTOCOL_FIELDS) | {"optimizer"}
    assert {"momentum", "schedule", "weight_decay", "pilot_budget", "include_bias"} <= set(METHOD_KEYS)
    assert {"model", "dataset", "method", "seed", "sweep"}.isdisjoint(METHOD_KEYS)


def test_every_sweepable_field_can_be_a_grid_axis():
    """One axis per sweepable field, two values each, on a method that reads it: two trials each."""
    axes = {"epochs": [1, 2], "batch_size": [64, 128], "lr": [0.1, 0.2], "momentum": [0.0, 0.5],
            "schedule": ["cosine", "constant"], "lam": [1e-4, 1e-3], "depth": [2, 3], "compression": [10.0, 100.0],
            "omega_min": [0.01, 0.02], "base_init": ["lecun", "kaiming"], "omega_max": ["product", "factor"],
            "include_bias": [True, False],
            "finetune_epochs": [1, 2], "weight_decay": [0.0, 1e-4], "pilot_schedule": ["budget", "harmonic"],
            "pilot_budget": [0.1, 0.2], "snip_examples": [0, 100]}
    assert set(axes) == set(METHOD_KEYS)
    blocks = {"dwf": {"lam": 1e-4, "depth": [2]}, "pilot": {"lam": 1e-4}, "snip": {"compression": 10.0},
              "gmp": {"compression": 10.0, "finetune_epochs": 1}, "dense": {}}
    reader = {"depth": "dwf", "lam": "dwf", "omega_min": "dwf", "base_init": "dwf", "omega_max": "dwf",
              "compression": "snip", "snip_examples": "snip",
              "finetune_epochs": "gmp", "pilot_schedule": "pilot", "pilot_budget": "pilot"}
    for key, values in axes.items():
        method = reader.get(key, "dense")
        raw = {"model": "lenet300", "dataset": "synthetic", "methods": {method: {**blocks[method], key: values}}}
        trials = expand(parse_spec(raw, f"<{key}>"))
        field = "compressions" if key == FIELDS["compressions"].singular else key
        assert len(trials) == 2 and len({getattr(t, field) for t in trials}) == 2, key


def test_a_spec_is_checked_by_the_method_rules_run_trial_applies():
    """PILoT's own rule (its schedules) fails the spec before anything runs, naming the block."""
    raw = {"model": "lenet300", "dataset": "synthetic", "methods": {"pilot": {"lam": 1e-4, "pilot_schedule": "cubic"}}}
    with pytest.raises(SpecError, match=r"<spec>: key 'methods.pilot': config field 'pilot_schedule' = 'cubic'"):
        parse_spec(raw, "<spec>")


def test_result_row_columns_named_in_the_metadata_are_the_store_schema():
    """A field's `row_column` is a column of the result row; a row column named after a field is its own."""
    from suite.results.schema import ROW_SCHEMA

    assert {FIELDS[n].row_column for n in ROW_COLUMN_FIELDS} <= set(ROW_SCHEMA.names)
    assert all(FIELDS[n].row_column == n for n in FIELDS if n in ROW_SCHEMA.names)


def test_field_lists_derived_from_the_metadata_keep_what_stored_keys_were_made_of():
    """Report settings keys, lr-search record keys and adaptive groups were built from these lists when they
    were written out by hand; a change here re-keys what is stored, so it must be deliberate."""
    assert DWF_INIT_FIELDS == {"omega_min", "base_init", "omega_max"}
    assert REPLICATE_FIELDS == ("seed",) and NON_IDENTITY_FIELDS == ("sweep",)
    # data_fingerprint (added with provenance) is at its default (None) in every older stored config.
    assert set(ROW_COLUMN_FIELDS) == {"model", "dataset", "method", "depth", "lam", "lr", "epochs", "seed", "sweep",
                                      "compressions", "data_fingerprint"}
