"""The sweep options are declared once (suite.sweep.options.SweepOptions), and that one declaration drives the
options of `bench sweep` and `bench submit`, the overrides of the spec, and the flags a submitted job gets."""

from __future__ import annotations

import dataclasses
import re
import shlex

import click
import pytest
import typer
from typer.testing import CliRunner

from suite.cli.main import app
from suite.sweep.loading import load_spec
from suite.sweep.options import SweepOptions
from suite.sweep.spec import SpecError

FIELDS = {f.name: f for f in dataclasses.fields(SweepOptions)}
# A value away from the default for every option (a new option needs one here: the test says so).
SAMPLE = dict(epochs=2, seeds=(0, 1), methods=("dwf", "gmp"), max_grid=2, lr_budget=3, cpus_per_trial=2.0,
              gpus_per_trial=0.5, max_trials=500, adaptive=True, search="shared", level_rule="measured")


def _command(name: str) -> click.Command:
    return typer.main.get_command(app).commands[name]


def _parsed(argv: list[str]) -> SweepOptions:
    """The sweep options `bench sweep` reads from `argv` (parsed by click, without running)."""
    params = _command("sweep").make_context("sweep", ["smoke", *argv]).params
    return SweepOptions.from_command_line({name: params[name] for name in FIELDS})


def test_every_option_has_a_sample():
    assert set(SAMPLE) == set(FIELDS)
    assert all(SAMPLE[name] != field.default for name, field in FIELDS.items())


@pytest.mark.parametrize("command", ["sweep", "submit"])
def test_both_commands_have_every_sweep_option_with_its_flag_and_default(command):
    params = {p.name: p for p in _command(command).params}
    for name, field in FIELDS.items():
        info = field.metadata["sweep"]
        assert info.flag(name) in params[name].opts, (command, name)
        assert params[name].default == field.default, (command, name)
    help_text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "250"}).output
    assert "Override the training epochs of every trial." in help_text if command == "sweep" else \
        "Passed on to bench sweep (and checked here first)." in help_text


def test_flags_are_what_bench_sweep_parses_back():
    options = SweepOptions(**SAMPLE)
    assert _parsed(options.flags()) == options
    assert SweepOptions().flags() == [] and _parsed([]) == SweepOptions()


def test_submit_passes_every_option_on_to_the_job(tmp_path):
    """`bench submit --slurm --dry-run` with every sweep option: the job's `bench sweep` reads back the same
    options, and so applies the same overrides to the same spec."""
    argv = SweepOptions(**SAMPLE).flags()
    done = CliRunner().invoke(app, ["submit", "smoke", "--slurm", "--dry-run", "--results", str(tmp_path), *argv])
    assert done.exit_code == 0, done.output
    sweep = shlex.split(re.search(r"^SWEEP=\((.*)\)$", done.stdout, re.M).group(1))
    assert sweep[:3] == ["bench", "sweep", "smoke"]
    given = _parsed([arg for arg in sweep[3:]
                     if arg not in ("--address", "auto", "--results", str(tmp_path))])
    assert given == SweepOptions(**SAMPLE)
    spec = load_spec("smoke")
    assert given.apply(spec) == SweepOptions(**SAMPLE).apply(spec) != spec


def test_every_override_changes_the_spec_and_names_its_flag():
    spec = load_spec("lenet300_fmnist")
    for name, field in FIELDS.items():
        if field.metadata["sweep"].applies is None:
            assert SweepOptions(**{name: SAMPLE[name]}).apply(spec) == spec  # run options: the spec as it is
            continue
        assert SweepOptions(**{name: SAMPLE[name]}).apply(spec) != spec, name
    with pytest.raises(SpecError, match="--max-grid"):
        SweepOptions(max_grid=0).apply(spec)


def test_text_options_are_parsed_and_bad_text_is_named():
    assert _parsed(["--seeds", "0, 2", "--methods", "dwf,"]) == SweepOptions(seeds=(0, 2), methods=("dwf",))
    with pytest.raises(ValueError, match=r"--seeds '0,x': allowed: comma-separated integers"):
        _parsed(["--seeds", "0,x"])
    assert SweepOptions(search="shared").search_problem(adaptive=False).startswith("--search shared: allowed only")
    assert SweepOptions(search="shared", level_rule="measured").search_problem(adaptive=True) is None


def test_report_flags_are_what_bench_report_needs_to_read_the_sweep_as_it_ran():
    """The summary's report command: the spec when given as a path, the methods and length the sweep ran, and
    its search, each a flag `bench report` parses."""
    assert SweepOptions().report_flags(adaptive=False, spec_path=None) == []
    assert SweepOptions(adaptive=True).report_flags(adaptive=True, spec_path=None) == ["--adaptive"]
    assert SweepOptions().report_flags(adaptive=True, spec_path=None) == []  # the spec's `adaptive` key: found
    flags = SweepOptions(**SAMPLE).report_flags(adaptive=True, spec_path="my spec.yaml")
    assert flags == ["--spec", "my spec.yaml", "--methods", "dwf,gmp", "--epochs", "2", "--seeds", "0,1",
                     "--max-grid", "2", "--search", "shared", "--level-rule", "measured"]
    params = _command("report").make_context("report", ["smoke", *flags]).params
    assert (params["spec"], params["methods"], params["epochs"], params["seeds"], params["max_grid"], params["search"],
            params["level_rule"]) == ("my spec.yaml", "dwf,gmp", 2, "0,1", 2, "shared", "measured")


def test_bench_report_names_a_level_rule_it_does_not_know_or_that_needs_the_shared_search(tmp_path):
    for argv, message in ((["--search", "shared", "--level-rule", "x"], "--level-rule x: allowed: interpolated, "
                                                                      "measured"),
                          (["--level-rule", "measured"], "--level-rule: allowed only with --search shared")):
        done = CliRunner().invoke(app, ["report", "smoke", "--results", str(tmp_path), *argv])
        assert done.exit_code == 2 and message in " ".join(done.output.split()), done.output


def test_the_summary_ends_in_the_report_command_with_those_flags():
    from suite.run.outcome import SweepOutcome
    from suite.run.summary import summary_lines

    lines = summary_lines(SweepOutcome(sweep="s", results="/r"), ["--spec", "my spec.yaml", "--search", "shared"])
    assert lines[-1] == "results: /r/s  ->  bench report s --results /r --spec 'my spec.yaml' --search shared"
    assert summary_lines(SweepOutcome(sweep="s", results="/r"))[-1] == "results: /r/s  ->  bench report s --results /r"
