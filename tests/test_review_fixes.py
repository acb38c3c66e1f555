"""Defects a review of the method-parameter and claim changes found (issue 26 / 28), each pinned."""

import dataclasses
import threading
import time

import pytest

import suite.builtins  # noqa: F401
from suite.config import ConfigError
from suite.fields import MethodParams, setting
from suite.methods.base import METHODS, Method, Prepared
from suite.sweep.loading import load_spec
from suite.sweep.overrides import with_epochs


def test_a_null_finetune_length_survives_an_epochs_override(tmp_path):
    spec_file = tmp_path / "s.yaml"
    spec_file.write_text("name: s\nmodel: lenet300\ndataset: synthetic\nseeds: [0]\ntrain: {epochs: 6}\n"
                         "methods:\n  gmp: {compression: [10], finetune_epochs: [null, 4]}\n")
    spec = with_epochs(load_spec(str(spec_file)), 2)
    axes = dict(spec.methods[0].axes)
    assert axes["finetune_epochs"] == (None, 2)


def test_a_plugin_parameter_may_not_reuse_a_stored_name_at_another_value():
    @dataclasses.dataclass(frozen=True)
    class Budgeted(MethodParams):
        pilot_budget: float = setting(0.5, help="a budget", accepts=lambda v: isinstance(v, float), allowed="a float")

    with pytest.raises(ValueError, match=r"pilot_budget.*stored config carries"):
        METHODS.register(Method(name="budgeted_review", description="-", prepare=lambda *a: Prepared(None, []),
                                params=Budgeted))
    assert "budgeted_review" not in METHODS


def test_bench_run_param_for_a_field_with_its_own_option_is_a_named_error():
    from suite.cli.run import config_from_options
    from suite.config import DEFAULTS, FIELDS

    options = {n: list(DEFAULTS[n]) if FIELDS[n].singular else DEFAULTS[n] for n in FIELDS}
    options.update(method="gmp", compressions=[10.0], finetune_epochs=3)
    with pytest.raises(ConfigError, match="--finetune-epochs"):
        config_from_options(options, ["finetune_epochs=5"])
    with pytest.raises(ConfigError, match="--lr"):
        config_from_options(options, ["lr=0.1"])


def test_a_released_claim_stays_released(tmp_path):
    from suite.run.guard.trial_claim import claim_for

    claim = claim_for(str(tmp_path), "s", "abc123", {"beat_s": 0.05})
    assert claim.try_take() is None and claim.held
    time.sleep(0.2)
    claim.release()
    time.sleep(0.3)  # a heartbeat still in flight at release would have written the file back by now
    assert not (tmp_path / "s" / "claims" / "abc123.json").exists()
    assert not any(t.name == "bench-claim-heartbeat" and t.is_alive() for t in threading.enumerate())
