"""Sweep specs: validation errors, expansion, overrides, stable hashes (no Ray; the shipped specs:
test_shipped_specs)."""

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from suite.grid import cap_grid, logspace
from suite.sweep.expansion import expand, lr_searches
from suite.sweep.loading import load_spec
from suite.sweep.options import SweepOptions
from suite.sweep.spec import SpecError



def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


TINY = """\
name: tiny
model: lenet300
dataset: synthetic
train: {epochs: 1, batch_size: 256, optimizer: sgd, momentum: 0.9, lr: 0.15, schedule: cosine}
seeds: [0, 1]
methods:
  dense: {}
  dwf:
    depth: [2, 3]
    lam: {logspace: [1.0e-6, 1.0e-1, 6]}
    lr: {2: 0.5, 3: auto}
  pilot: {lam: [1.0e-4, 3.0e-4], lr: 0.2}
  gmp: {compression: {logspace: [10, 1.0e5, 5]}, finetune_epochs: 1}
  snip: {compression: [10, 100, 1000]}
"""


# --------------------------------------------------------------------------- expansion


def test_expansion_grid_sizes_logspace_and_per_depth_lr(tmp_path):
    spec = load_spec(write(tmp_path, TINY))
    searches = lr_searches(spec)
    assert [s.depth for s in searches] == [3]
    with pytest.raises(SpecError, match="auto"):
        expand(spec)  # D=3's lr is not searched yet
    trials = expand(spec, {searches[0].key: 0.7})
    counts = {m: sum(c.method == m for c in trials) for m in ("dense", "dwf", "pilot", "gmp", "snip")}
    assert counts == {"dense": 2, "dwf": 2 * 6 * 2, "pilot": 2 * 2, "gmp": 5 * 2, "snip": 3 * 2}
    assert sorted({c.lam for c in trials if c.method == "dwf"}) == [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    assert {(c.depth, c.lr) for c in trials if c.method == "dwf"} == {(2, 0.5), (3, 0.7)}
    assert {c.lr for c in trials if c.method == "dense"} == {0.15}
    assert sorted({c.compressions for c in trials if c.method == "gmp"}) == [(10.0,), (100.0,), (1000.0,), (10000.0,),
                                                                             (100000.0,)]
    assert len({c.config_hash for c in trials}) == len(trials)
    assert all(c.sweep == "tiny" for c in trials)


def test_logspace_values_are_rounded_for_stable_hashes():
    values = logspace(1e-6, 1e-1, 20)
    assert values[0] == 1e-6 and values[-1] == 0.1
    assert all(v == float(f"{v:.6g}") for v in values)
    assert values[1] == 1.83298e-06
    assert all(math.isclose(b / a, 10 ** (5 / 19), rel_tol=1e-5) for a, b in zip(values, values[1:]))


def test_cap_grid_keeps_endpoints_and_spreads_evenly():
    grid = list(range(1, 21))
    assert cap_grid(grid, 3) == [1, 11, 20]  # index round(19 / 2) = 10: Python rounds half to even
    assert cap_grid(grid, 2) == [1, 20]
    assert cap_grid(grid, 50) == grid
    assert cap_grid(grid, 1) == [10]


def test_overrides_epochs_seeds_methods_max_grid(tmp_path):
    spec = load_spec("lenet300_fmnist")
    small = SweepOptions(epochs=2, seeds=(0, 1), methods=("dwf", "gmp", "snip"), max_grid=3).apply(spec)
    trials = expand(small, placeholder_lr=True)
    assert {c.method for c in trials} == {"dwf", "gmp", "snip"}
    assert {c.epochs for c in trials} == {2} and {c.seed for c in trials} == {0, 1}
    dwf = [c for c in trials if c.method == "dwf"]
    full = sorted({c.lam for c in expand(spec, placeholder_lr=True) if c.method == "dwf"})
    assert sorted({c.lam for c in dwf}) == [full[0], full[len(full) // 2], full[-1]]  # ends and middle
    assert len(dwf) == 3 * 3 * 2
    gmp = [c for c in trials if c.method == "gmp"]
    targets = sorted({c.compressions[0] for c in expand(spec, placeholder_lr=True) if c.method == "gmp"})
    ends_and_middle = [targets[0], targets[len(targets) // 2], targets[-1]]
    assert sorted({c.compressions[0] for c in gmp}) == ends_and_middle and len(gmp) == 3 * 2
    assert {c.finetune_epochs for c in gmp} == {2}  # retraining capped by --epochs too
    assert sorted({c.compressions[0] for c in trials if c.method == "snip"}) == ends_and_middle
    with pytest.raises(SpecError, match="--methods.*allowed: dense, dwf"):
        SweepOptions(methods=("dwf", "nope")).apply(spec)
    with pytest.raises(SpecError, match="--epochs"):
        SweepOptions(epochs=0).apply(spec)
    with pytest.raises(SpecError, match="--seeds"):
        SweepOptions(seeds=(0, 0)).apply(spec)


def test_method_keys_override_train_keys(tmp_path):
    spec = load_spec(write(tmp_path, """\
        model: lenet300
        dataset: synthetic
        train: {epochs: 3, lr: 0.15, batch_size: 128}
        methods:
          dense: {epochs: 5, batch_size: [64, 128]}
          pilot: {lam: 1.0e-4, lr: 0.2}
        """))
    trials = expand(spec)
    assert {(c.method, c.epochs, c.batch_size, c.lr) for c in trials} == {
        ("dense", 5, 64, 0.15), ("dense", 5, 128, 0.15), ("pilot", 3, 128, 0.2)}
    assert spec.name == "spec"  # default: the file's stem


# --------------------------------------------------------------------------- hashes


def test_config_hashes_are_insensitive_to_key_order(tmp_path):
    reordered = """\
        seeds: [0, 1]
        methods:
          snip: {compression: [10, 100, 1000]}
          gmp: {compression: {logspace: [10, 1.0e5, 5]}, finetune_epochs: 1}
          pilot: {lr: 0.2, lam: [1.0e-4, 3.0e-4]}
          dwf:
            lr: {3: auto, 2: 0.5}
            lam: {logspace: [1.0e-6, 1.0e-1, 6]}
            depth: [2, 3]
          dense: {}
        train: {schedule: cosine, lr: 0.15, momentum: 0.9, optimizer: sgd, batch_size: 256, epochs: 1}
        dataset: synthetic
        model: lenet300
        name: tiny
        """
    a = load_spec(write(tmp_path, TINY, "a.yaml"))
    b = load_spec(write(tmp_path, reordered, "b.yaml"))
    assert [s.key for s in lr_searches(a)] == [s.key for s in lr_searches(b)]
    lrs = {lr_searches(a)[0].key: 0.7}
    assert {c.config_hash for c in expand(a, lrs)} == {c.config_hash for c in expand(b, lrs)}


def test_config_hashes_are_stable_across_processes(tmp_path):
    path = write(tmp_path, TINY)
    code = ("import json,sys; from suite.sweep.loading import load_spec; from suite.sweep.expansion import expand; "
            f"print(json.dumps([c.config_hash for c in expand(load_spec({str(path)!r}), placeholder_lr=True)]))")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}) for seed in ("1", "2")]
    first, second = (json.loads(r.stdout) for r in runs)
    assert first == second == [c.config_hash for c in expand(load_spec(path), placeholder_lr=True)]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("text, key, allowed", [
    ("model: lenet300\ndataset: synthetic\nmethods: {dense: {}}\nepochz: 3\n", "epochz", "dataset, description"),
    ("model: lenet300\ndataset: synthetic\ntrain: {epoch: 3}\nmethods: {dense: {}}\n", "train.epoch", "batch_size"),
    ("model: lenet300\ndataset: synthetic\nmethods: {dwf: {depth: [2], lam: 1.0e-3, lamda: 1}}\n",
     "methods.dwf.lamda", "compression, depth"),
    ("model: lenet300\ndataset: synthetic\nmethods: {dwff: {}}\n", "methods.dwff", "dense, dwf"),
    ("model: lenet301\ndataset: synthetic\nmethods: {dense: {}}\n", "model", "lenet300"),
    ("model: lenet300\ndataset: mnistt\nmethods: {dense: {}}\n", "dataset", "fmnist"),
    ("model: lenet300\ndataset: synthetic\nmethods: {dwf: {depth: [2]}}\n", "methods.dwf.lam", "requires"),
    ("model: lenet300\ndataset: synthetic\nmethods: {gmp: {}}\n", "methods.gmp.compression", "requires"),
    ("model: lenet300\ndataset: synthetic\nmethods: {dwf: {depth: [1], lam: 0.1}}\n", "methods.dwf.depth[0]",
     "an integer >= 2"),
    ("model: lenet300\ndataset: synthetic\ntrain: {epochs: 0}\nmethods: {dense: {}}\n", "train.epochs", ">= 1"),
    ("model: lenet300\ndataset: synthetic\nmethods: {snip: {compression: [0.5]}}\n", "methods.snip.compression[0]",
     "> 1"),
    ("model: lenet300\ndataset: synthetic\nmethods: {spred: {lam: 0.1, depth: [2]}}\n", "methods.spred.depth",
     "depth only for dwf"),
    ("model: lenet300\ndataset: synthetic\nmethods: {dwf: {depth: [2, 3], lam: 0.1, lr: {2: 0.5}}}\n",
     "methods.dwf.lr", "one entry per depth"),
    ("model: lenet300\ndataset: synthetic\nmethods: {dwf: {depth: [2], lam: {logspace: [0, 1, 3]}}}\n",
     "methods.dwf.lam.logspace", ""),
    ("model: lenet300\ndataset: synthetic\nmethods: {dense: {}}\nlr_search: {budget: 0}\n", "lr_search.budget",
     ">= 1"),
    ("model: lenet300\ndataset: synthetic\nmethods: {dense: {}}\nresources: {gpus: 1}\n", "resources.gpus",
     "cpus_per_trial, gpus_per_trial"),
])
def test_bad_specs_name_file_key_and_what_is_allowed(tmp_path, text, key, allowed):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message and f"'{key}'" in message and allowed in message, message


def test_malformed_yaml_and_duplicate_keys(tmp_path):
    path = write(tmp_path, "model: lenet300\nmethods: {dense: {}\n")
    with pytest.raises(SpecError, match=rf"{path}: malformed YAML"):
        load_spec(path)
    path = write(tmp_path, "model: lenet300\nmodel: lenet5\ndataset: synthetic\nmethods: {dense: {}}\n")
    with pytest.raises(SpecError, match="duplicate key 'model'"):
        load_spec(path)


def test_missing_file_and_unknown_sweep_name(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "nope.yaml")
    with pytest.raises(SpecError, match="unknown sweep 'lenet300_fmnits'; available: .*lenet300_fmnist"):
        load_spec("lenet300_fmnits")


def _cli(*args: str):
    from typer.testing import CliRunner

    from suite.cli.main import app

    return CliRunner().invoke(app, list(args))


def test_cli_reports_bad_specs_with_exit_code_2(tmp_path):
    path = write(tmp_path, "model: lenet300\ndataset: synthetic\nmethods: {dwff: {}}\n")
    done = _cli("sweep", str(path), "--dry-run")
    assert done.exit_code == 2, done.output
    assert "methods.dwff" in done.output and "allowed" in done.output
    done = _cli("sweep", "nonexistent_sweep")
    assert done.exit_code == 2 and "available:" in done.output and "smoke" in done.output
    done = _cli("sweep", "smoke", "--seeds", "0,x")
    assert done.exit_code == 2 and "--seeds" in done.output


def test_cli_dry_run_prints_the_plan(tmp_path):
    done = _cli("sweep", "lenet300_fmnist", "--dry-run", "--results", str(tmp_path / "res"), "--max-grid", "2",
                "--seeds", "0")
    assert done.exit_code == 0, done.output
    assert "total" in done.output and "dwf" in done.output
    # A spec with an `auto` lr says the search runs first.
    done = _cli("sweep", str(write(tmp_path, TINY)), "--dry-run", "--results", str(tmp_path / "res"))
    assert done.exit_code == 0, done.output
    assert "auto -> Optuna search first" in done.output
