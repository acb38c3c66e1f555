"""The trial config's field metadata: one list of fields for validation, specs, flags and the hash."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from suite.builtins import BUILT_IN
from suite.config import (
    FIELDS, FLAT_PARAM_DEFAULTS, IDENTITY_FIELDS, NON_IDENTITY_FIELDS, PROTOCOL_FIELDS, REPLICATE_FIELDS,
    ROW_COLUMN_FIELDS, SWEEPABLE_FIELDS, ConfigError, TrialConfig, check_field, field_info, known_fields,
)
from suite.fields import info_of
from suite.methods.dwf import DWFParams
from suite.sweep.checks import method_keys, train_keys
from suite.sweep.expansion import expand
from suite.sweep.parsing import parse_spec
from suite.sweep.spec import SpecError

CONFIG_SOURCE = Path(__file__).resolve().parents[1] / "suite" / "config.py"
BASE = {"model": "lenet300", "dataset": "synthetic", "method": "dwf", "depth": 2, "lam": 1e-4}


def _suite_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return {name for name in imported if name.split(".")[0] == "suite"}


def test_config_imports_nothing_of_the_suite():
    """Anything may import the config, so it may import nothing that could import it back: only the field
    metadata (suite.fields), which imports nothing of the suite."""
    assert _suite_imports(CONFIG_SOURCE) == {"suite.fields"}
    assert _suite_imports(CONFIG_SOURCE.parent / "fields.py") == set()


def _every_field():
    """(owner, name, Field) of the shared fields and of every built-in method's own parameters."""
    out = [("TrialConfig", f.name, f) for f in dataclasses.fields(TrialConfig) if f.name in FIELDS]
    return out + [(m.name, f.name, f) for m in BUILT_IN for f in dataclasses.fields(m.params)]


@pytest.mark.parametrize("owner,name,f", _every_field(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_field_explains_itself_and_accepts_its_default(owner, name, f):
    info = info_of(f)
    assert info.help and info.allowed
    if f.default is not dataclasses.MISSING:
        assert info.accepts(f.default) and check_field(name, f.default, info) == f.default


def test_only_the_sweep_name_is_not_identity():
    assert set(FIELDS) - set(IDENTITY_FIELDS) == {"sweep"}
    cfg = TrialConfig(**BASE)
    assert dataclasses.replace(cfg, sweep="elsewhere").config_hash == cfg.config_hash


def test_a_bad_value_names_the_field_and_what_is_allowed():
    with pytest.raises(ConfigError,
                       match=r"config field 'momentum' = 1\.5 is not allowed; allowed: a number in \[0, 1\)"):
        TrialConfig(**BASE, momentum=1.5)
    with pytest.raises(ConfigError, match="unknown config field 'lambda'; allowed: .*'lam'"):
        field_info("lambda")


def test_integers_in_float_fields_hash_as_floats():
    assert TrialConfig(**BASE, lr=1).config_hash == TrialConfig(**BASE, lr=1.0).config_hash
    assert TrialConfig(**{**BASE, "compressions": [10]}).compressions == (10.0,)


def test_spec_keys_are_the_config_metadata():
    """What a method block and the `train:` block may set follows the metadata, nothing else."""
    params = {n for n, info in known_fields().items() if n not in FIELDS and info.sweepable}
    assert set(method_keys()) == {FIELDS[n].singular or n for n in SWEEPABLE_FIELDS} | params
    assert set(train_keys()) == set(PROTOCOL_FIELDS) | set(FLAT_PARAM_DEFAULTS) | {"optimizer"}
    assert {"momentum", "schedule", "weight_decay", "pilot_budget", "include_bias"} <= set(method_keys())
    assert {"model", "dataset", "method", "seed", "sweep"}.isdisjoint(method_keys())
    # A method block takes the shared keys and its own parameters only.
    assert "pilot_budget" in method_keys("pilot") and "pilot_budget" not in method_keys("dwf")


def test_every_sweepable_field_can_be_a_grid_axis():
    """One axis per sweepable field, two values each, on a method that reads it: two trials each."""
    axes = {"epochs": [1, 2], "batch_size": [64, 128], "lr": [0.1, 0.2], "momentum": [0.0, 0.5],
            "schedule": ["cosine", "constant"], "lam": [1e-4, 1e-3], "depth": [2, 3], "compression": [10.0, 100.0],
            "omega_min": [0.01, 0.02], "base_init": ["lecun", "kaiming"], "omega_max": ["product", "factor"],
            "include_bias": [True, False],
            "finetune_epochs": [1, 2], "weight_decay": [0.0, 1e-4], "pilot_schedule": ["budget", "harmonic"],
            "pilot_budget": [0.1, 0.2], "snip_examples": [0, 100]}
    assert set(axes) == set(method_keys())
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
    """A method parameter's own declaration (PILoT's schedules) and a method's own rule (L1 takes no weight
    decay) fail the spec before anything runs, naming the block."""
    raw = {"model": "lenet300", "dataset": "synthetic", "methods": {"pilot": {"lam": 1e-4, "pilot_schedule": "cubic"}}}
    with pytest.raises(SpecError, match=r"<spec>: key 'methods.pilot.pilot_schedule': value 'cubic' is out of "
                                        r"range; allowed: \['budget', 'harmonic'"):
        parse_spec(raw, "<spec>")
    raw = {"model": "lenet300", "dataset": "synthetic", "methods": {"l1": {"lam": 1e-4, "weight_decay": 1e-4}}}
    with pytest.raises(SpecError, match=r"<spec>: key 'methods.l1': config field 'weight_decay' = 0.0001"):
        expand(parse_spec(raw, "<spec>"))


def test_result_row_columns_named_in_the_metadata_are_the_store_schema():
    """A field's `row_column` is a column of the result row; a row column named after a field is its own."""
    from suite.results.schema import ROW_SCHEMA

    assert {FIELDS[n].row_column for n in ROW_COLUMN_FIELDS} <= set(ROW_SCHEMA.names)
    assert all(FIELDS[n].row_column == n for n in FIELDS if n in ROW_SCHEMA.names)


def test_field_lists_derived_from_the_metadata_keep_what_stored_keys_were_made_of():
    """Report settings keys, lr-search record keys and adaptive groups were built from these lists when they
    were written out by hand; a change here re-keys what is stored, so it must be deliberate."""
    assert {f.name for f in dataclasses.fields(DWFParams)} == {"omega_min", "base_init", "omega_max"}
    # The parameters every stored config carries flat, at the values the hash leaves them out at.
    assert FLAT_PARAM_DEFAULTS == {"omega_min": None, "omega_max": "product", "base_init": "kaiming",
                                   "finetune_epochs": 0, "snip_examples": 0, "pilot_schedule": "budget",
                                   "pilot_budget": 0.1}
    assert REPLICATE_FIELDS == ("seed",) and NON_IDENTITY_FIELDS == ("sweep",)
    # data_fingerprint (added with provenance) is at its default (None) in every older stored config.
    assert set(ROW_COLUMN_FIELDS) == {"model", "dataset", "method", "depth", "lam", "lr", "epochs", "seed", "sweep",
                                      "compressions", "data_fingerprint"}
