"""A command expands its spec once (suite.sweep.expansion.expand_spec) and every later stage resolves that
`Expansion`: the plan, the lr searches, the previews, pinning to the data."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import suite.sweep.expansion as expansion_module
from suite.cli.main import app
from suite.run.plan import make_plan
from suite.sweep.expansion import count_trials, expand, expand_spec
from suite.sweep.loading import load_spec
from suite.sweep.overrides import with_data

from test_sweep import TINY, write  # a spec with an `auto` lr: the case that expanded most often


@pytest.fixture
def built(monkeypatch):
    """How many times a spec was expanded, and how many trial configs were built."""
    counts = {"expanded": 0, "built": 0}
    real_expand, real_make = expansion_module.expand_spec, expansion_module._make

    def counted_expand(spec):
        counts["expanded"] += 1
        return real_expand(spec)

    def counted_make(*args, **kwargs):
        counts["built"] += 1
        return real_make(*args, **kwargs)

    monkeypatch.setattr(expansion_module, "expand_spec", counted_expand)
    monkeypatch.setattr(expansion_module, "_make", counted_make)
    return counts


@pytest.mark.parametrize("extra", [(), ("--adaptive",), ("--adaptive", "--search", "shared")])
def test_a_dry_run_expands_its_spec_once(tmp_path, built, extra):
    path = write(tmp_path, TINY)
    done = CliRunner().invoke(app, ["sweep", str(path), "--dry-run", "--results", str(tmp_path / "res"), *extra])
    assert done.exit_code == 0, done.output
    assert built["expanded"] == 1
    once = built["built"]
    built["built"] = 0
    expansion_module.expand_spec(load_spec(path, check_trials=False))
    assert once == built["built"] >= count_trials(load_spec(path))  # each grid point (and search probe) once


def test_submit_expands_its_spec_once(tmp_path, built):
    done = CliRunner().invoke(app, ["submit", "smoke", "--slurm", "--dry-run", "--results", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert built["expanded"] == 1


def test_the_expansion_resolves_as_expand_does_and_pins_as_a_pinned_spec_expands(tmp_path):
    spec = load_spec(write(tmp_path, TINY))
    expansion = expand_spec(spec)
    (search,) = expansion.searches
    lrs = {search.key: 0.3}
    assert expansion.trials(lrs) == expand(spec, lrs) and expansion.listed() == expand(spec, placeholder_lr=True)
    assert expansion.trials() == expand(spec, skip_unresolved=True)
    pinned, direct = expansion.pinned("f" * 16), expand_spec(with_data(spec, "f" * 16))
    assert pinned == direct and pinned.searches[0].key != search.key  # the data enter the search's key
    plan = make_plan(pinned, str(tmp_path / "res"))
    assert plan.expansion is pinned and plan.blocked == len(expansion.listed()) - len(expansion.trials())
    later = plan.with_lrs({pinned.searches[0].key: {"lr": 0.3}})
    assert later.trials == direct.trials({pinned.searches[0].key: 0.3}) and later.blocked == 0
