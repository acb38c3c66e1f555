"""Every input checked before work, through one validator (issue 28): stated bounds, hostile YAML, paths that
are the wrong kind of thing, and error text printed as it is. Each case must end in a named error (exit 2),
never a traceback, a hang or silent acceptance."""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suite.cli.main import app
from suite.config import MAX_DEPTH, MAX_EPOCHS, MAX_SEED, ConfigError, TrialConfig
from suite.sweep.loading import load_spec
from suite.sweep.spec import SpecError

HEAD = "model: lenet300\ndataset: synthetic\nmethods: {dense: {}}\n"


def bench(*args: str, env: dict | None = None, timeout: int = 60):
    """`bench ARGS` in this process; (exit code, output on one line). A hang fails the test (SIGALRM)."""
    def hang(*_):
        raise TimeoutError(f"bench {' '.join(args)} hung")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(timeout)
    try:
        result = CliRunner().invoke(app, list(args), env={"BENCH_COMPILE": "0", **(env or {})})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"bench {' '.join(args)}: traceback {result.exception!r}") from result.exception
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("field, value, allowed", [
    ("seed", 2**32, f"an integer >= 0 and <= {MAX_SEED}"),
    ("seed", 10**23, "below 2**32"),
    ("depth", 100, f"null or an integer >= 2 and <= {MAX_DEPTH}"),
    ("epochs", 10**20, f"an integer >= 1 and <= {MAX_EPOCHS}"),
    ("finetune_epochs", 10**9, f"an integer >= 1 and <= {MAX_EPOCHS}"),  # GMP's own parameter
])
def test_config_bounds_are_stated(field, value, allowed):
    with pytest.raises(ConfigError) as caught:
        TrialConfig(model="lenet300", dataset="synthetic", method="gmp" if field == "finetune_epochs" else "dwf",
                    **{field: value})
    assert f"'{field}' = {value} is not allowed; allowed: " in str(caught.value) and allowed in str(caught.value)
    assert TrialConfig(model="lenet300", dataset="synthetic", method="dense", seed=MAX_SEED).seed == MAX_SEED


@pytest.mark.parametrize("args, named", [
    (("sweep", "smoke", "--seeds", "4294967296", "--dry-run"), "--seeds: [4294967296] is not allowed"),
    (("sweep", "smoke", "--epochs", "100000", "--dry-run"), f"allowed: an integer >= 1 and <= {MAX_EPOCHS}"),
    (("sweep", "smoke", "--cpus-per-trial", "100000", "--dry-run"), "allowed: a number in (0, 1024]"),
    (("run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dense", "--threads", "100000"),
     f"--threads 100000: allowed: an integer >= 1 and <= {4 * (os.cpu_count() or 1)}"),
    (("run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dwf", "--depth", "100"),
     f"'depth' = 100 is not allowed; allowed: null or an integer >= 2 and <= {MAX_DEPTH}"),
])
def test_bounds_on_the_command_line_are_named_errors_before_work(tmp_path, args, named):
    code, out = bench(*args, "--results", str(tmp_path / "res"))
    assert code == 2 and named in out, out
    assert not (tmp_path / "res").exists()


def _spec(tmp_path: Path, text: str | bytes, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else textwrap.dedent(text).encode())
    return path


def _alias_bomb() -> str:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "description: {" + ", ".join(lines) + "}\n"


@pytest.mark.parametrize("text, named", [
    (HEAD.encode() + b"description: caf\xe9\n", "not UTF-8 text (byte 0xe9"),
    (HEAD + "? [a, b]\n: 1\n", "a key must be a plain name or number"),
    (HEAD + _alias_bomb(), "expands to more than 100,000 nodes through its aliases"),
    (HEAD + "seeds: &s [0, *s]\n", "recursive alias"),
    (HEAD + "resources: {cpus_per_trial: 100000}\n", "allowed: a number in (0, 1024]"),
    # what failed only once training started, in a spec: refused by its dry run
    ("model: vgg16\ndataset: fmnist\nmethods: {dense: {}}\n", "does not take dataset 'fmnist''s 1x28x28 inputs"),
    ("model: lenet300\ndataset: fmnist\nmethods: {dwf: {depth: [3], lam: [1.0e-3], omega_min: 0.9}}\n",
     "'omega_min' = 0.9 is not allowed for lenet300 at depth 3"),
    (HEAD.replace("{dense: {}}", "{l1: {lam: [1.0e+300]}}"), "out of range; allowed: null or a number in [0, 100]"),
])
def test_hostile_specs_are_named_errors(tmp_path, text, named):
    path = _spec(tmp_path, text)
    with pytest.raises(SpecError, match=None) as caught:
        load_spec(path)
    assert str(path) in str(caught.value) and named in str(caught.value)
    code, out = bench("sweep", str(path), "--dry-run", "--results", str(tmp_path / "res"))
    assert code == 2 and named in out


def test_aliases_that_expand_modestly_still_load(tmp_path):
    path = _spec(tmp_path, """\
        model: lenet300
        dataset: synthetic
        train: &protocol {epochs: 1, batch_size: 64}
        methods: {dense: {}}
        description: [*protocol, *protocol]
        """)
    assert dict(load_spec(path).train)["epochs"] == 1


def test_paths_of_the_wrong_kind_are_named_errors(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    cases = [
        (("report", "s", "--results", str(tmp_path / "res"), "--out", str(tmp_path / "afile")),
         f"--out {tmp_path / 'afile'}: a file is there"),
        (("report", "s", "--results", str(tmp_path / "res"), "--out", str(tmp_path / "afile" / "sub")),
         "is not a folder this user can write in"),
        (("report", "s", "--results", str(tmp_path / "loop")), "a symbolic link loop"),
        (("sweep", "smoke", "--dry-run", "--results", str(tmp_path / "loop")), "a symbolic link loop"),
        (("report", "s", "--results", ""), "results root '' is empty"),
        (("sweep", "smoke", "--dry-run", "--results", ""), "results root '' is empty"),
        (("run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dense", "--results", ""),
         "error: results root '' is empty; allowed: a folder path or a URI"),
        (("submit", "smoke", "--slurm", "--script", str(tmp_path / "adir")), "a folder is there"),
        (("submit", "smoke", "--slurm", "--dry-run", "--results", str(tmp_path / "loop")), "a symbolic link loop"),
        (("submit", "smoke", "--slurm", "--dry-run", "--data", str(tmp_path / "loop")), "--data"),
    ]
    for args, named in cases:
        code, out = bench(*args)
        assert code == 2 and named in out, (args, out)
    assert (tmp_path / "afile").read_text() == "x"


def test_an_unknown_bench_compile_is_a_named_error():
    code, out = bench("sweep", "smoke", "--dry-run", env={"BENCH_COMPILE": "maybe"})
    assert code == 2 and "$BENCH_COMPILE='maybe' not allowed; allowed: auto (default), 1/on, 0/off" in out


def test_error_text_keeps_its_brackets():
    code, out = bench("report", "s", "--eps-mode", "[lo, hi]")
    assert code == 2 and "--eps-mode [lo, hi]: allowed: points, relative" in out
    code, out = bench("report", "s", "--table", "[bold]x[/]")
    assert code == 2 and "--table [bold]x[/] not known" in out


def test_the_lr_search_seed_has_the_trials_bound(tmp_path):
    path = _spec(tmp_path, HEAD + "lr_search: {seed: 4294967296}\n")
    with pytest.raises(SpecError, match="lr_search.seed.*out of range; allowed: an integer >= 0 and <= 4294967295"):
        load_spec(path)


def test_what_a_driver_prints_of_a_damaged_file_keeps_its_brackets(tmp_path):
    import io

    from rich.console import Console

    from suite.run.guard.store import guarded_store

    root = tmp_path / "res"
    bad = root / "s" / "failed" / "abc.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"config_hash": "h", "config": "[lo, hi]", "error": "x"}')  # valid JSON, wrong shape
    out = io.StringIO()
    with guarded_store(str(root), "s", Console(file=out, width=400)):
        pass
    assert "its 'config' must be an object, and it has '[lo, hi]'" in out.getvalue()


def test_what_would_fail_only_in_training_is_refused_before_it():
    """Issue 28: these failed only once training started (in a sweep, in every trial)."""
    from suite.config import ConfigError, TrialConfig
    from suite.methods.validation import validate_trial

    with pytest.raises(ConfigError, match=r"'lam' = 1e\+300 is not allowed; allowed: null or a number in \[0, 100\]"):
        TrialConfig(model="lenet300", dataset="fmnist", method="l1", lam=1e300)
    with pytest.raises(ConfigError, match="does not take dataset 'fmnist''s 1x28x28 inputs"):
        validate_trial(TrialConfig(model="vgg16", dataset="fmnist", method="dense"))
    with pytest.raises(ConfigError, match=r"'omega_min' = 0.9 is not allowed for lenet300 at depth 3: layer fc1"):
        validate_trial(TrialConfig(model="lenet300", dataset="fmnist", method="dwf", depth=3, lam=1e-3,
                                   omega_min=0.9))
    validate_trial(TrialConfig(model="lenet300", dataset="fmnist", method="dwf", depth=3, lam=1e-3, omega_min=0.1))
