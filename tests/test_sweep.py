"""Sweep specs: loading, validation errors, expansion, overrides, stable hashes (no Ray)."""

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from suite.grid import cap_grid, logspace
from suite.sweep.expansion import expand, lr_searches
from suite.sweep.loading import available_sweeps, load_spec
from suite.sweep.overrides import apply_overrides
from suite.sweep.spec import SpecError

REPO = Path(__file__).resolve().parents[1]
BENCH = [sys.executable, "-c", "from suite.cli.main import main; main()"]
PAPER_LAM = logspace(1e-6, 1e-1, 20)
PAPER_CR = logspace(10, 1e5, 15)
PRUNING_TARGETS = sorted(set(PAPER_CR) | {10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0})
TABLE2_LEVELS = (10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0)


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


# --------------------------------------------------------------------------- the shipped specs


def test_every_shipped_spec_loads_and_opens_with_its_command():
    names = available_sweeps()
    expected = {"lenet300_fmnist", "lenet300_mnist", "lenet300_kmnist", "lenet5_mnist", "lenet5_fmnist",
                "lenet5_kmnist", "vgg16_cifar10", "vgg19_cifar100", "resnet18_cifar10", "resnet18_tinyimagenet",
                "smoke"}
    assert expected <= set(names)
    for name in names:
        first = (REPO / "sweeps" / f"{name}.yaml").read_text().splitlines()[0]
        assert first.startswith(f"# bench sweep {name}"), (name, first)
        spec = load_spec(name)
        assert spec.name == name
        assert expand(spec, placeholder_lr=True)


def test_lenet300_fmnist_follows_the_paper_protocol():
    spec = load_spec("lenet300_fmnist")
    train = dict(spec.train)
    assert (train["epochs"], train["batch_size"], train["momentum"], train["lr"], train["schedule"]) == \
        (75, 256, 0.9, 0.15, "cosine")
    assert spec.seeds == (0, 1, 2)
    trials = expand(spec, placeholder_lr=True)
    by = lambda m: [c for c in trials if c.method == m]  # noqa: E731
    assert len(by("dense")) == 3
    dwf = by("dwf")
    # The paper's 20 λ plus 9 where this model's ε boundaries and Table 2 levels lie.
    assert len(dwf) == 3 * 29 * 3
    assert set(PAPER_LAM) < {c.lam for c in dwf} and set(logspace(3e-4, 3e-3, 9)) < {c.lam for c in dwf}
    assert {c.depth for c in dwf} == {2, 3, 4}
    assert len(by("spred")) == 20 * 3 and sorted({c.lam for c in by("spred")}) == PAPER_LAM
    pilot = by("pilot")
    assert len(pilot) == 9 and {c.lr for c in pilot} == {0.2} and sorted({c.lam for c in pilot}) == [1e-4, 3e-4, 1e-3]
    # Every pruning method, GMP included (train, prune, retrain 25 epochs), trains one
    # trial per target: the paper's 15 log-spaced ratios plus Table 2's levels.
    for method in ("gmp", "snip", "synflow", "random"):
        assert len(by(method)) == len(PRUNING_TARGETS) * 3
        assert sorted({c.compressions[0] for c in by(method)}) == list(PRUNING_TARGETS)
        assert set(PAPER_CR) | set(TABLE2_LEVELS) == set(PRUNING_TARGETS)
    assert {c.finetune_epochs for c in by("gmp")} == {25}
    # DWF trains at Table 4's lr for every depth (README "Fidelity": App. G.2's rule picks
    # edge-of-stability lrs that miss the paper's cells); nothing is searched, but the
    # rule's settings stay for a user who sets `auto`.
    assert {(c.depth, c.lr) for c in dwf} == {(2, 0.15), (3, 0.15), (4, 0.15)}
    # Algorithm 1's upper bound read as two factor standard deviations (README "Decisions"): the
    # printed bound misses the paper's D = 3 / 4 cells near CR 1000 by 4-5 points.
    assert {c.omega_max for c in dwf} == {"factor"}
    assert lr_searches(spec) == []
    assert spec.lr_search is not None and spec.lr_search.lam == 1e-6


def test_lr_search_keys_survive_a_new_defaulted_field(tmp_path):
    """The reference store's lr choices (results/reference/lenet300_fmnist/lr_search/) are filed under these
    keys. A field added later (omega_max) changed every key, so finished searches counted as pending
    and would have run again; away from its default it must still make a search of its own."""
    text = Path("sweeps/lenet300_fmnist.yaml").read_text()
    assert "    lr: 0.15\n" in text and "    omega_max: factor\n" in text
    # The searches were stored when the spec used the printed bound (omega_max at its default).
    text = text.replace("    omega_max: factor\n", "", 1)
    spec = tmp_path / "lenet300_fmnist.yaml"
    spec.write_text(text.replace("    lr: 0.15\n", "    lr: {2: auto, 3: auto, 4: auto}\n", 1))
    assert sorted(s.key for s in lr_searches(load_spec(str(spec)))) == [
        "dwf_D2_f6ad6f4f3e", "dwf_D3_2756f1b511", "dwf_D4_da1701f969"]
    spec.write_text(text.replace("    lr: 0.15\n", "    lr: {2: auto, 3: auto, 4: auto}\n    omega_max: factor\n", 1))
    keys = sorted(s.key for s in lr_searches(load_spec(str(spec))))
    assert len(keys) == 3 and not {"dwf_D2_f6ad6f4f3e", "dwf_D3_2756f1b511", "dwf_D4_da1701f969"} & set(keys)


def test_table4_learning_rates():
    assert dict(load_spec("lenet300_kmnist").train)["lr"] == 0.4
    # The LeNets: one lr for every method and depth (0.4 only for LeNet-300-100 on K-MNIST).
    for name in ("lenet300_mnist", "lenet300_fmnist", "lenet300_kmnist", "lenet5_mnist", "lenet5_fmnist",
                 "lenet5_kmnist"):
        trials = expand(load_spec(name), placeholder_lr=True)
        assert {c.lr for c in trials if c.method in ("dense", "dwf")} == {0.4 if name == "lenet300_kmnist" else 0.15}
    for name, lrs in {"vgg16_cifar10": (0.5, 0.6, 0.6), "vgg19_cifar100": (0.3, 0.6, 0.6),
                      "resnet18_cifar10": (0.2, 0.5, 0.7), "resnet18_tinyimagenet": (0.5, 0.8, 1.1)}.items():
        spec = load_spec(name)
        assert dict(spec.train)["epochs"] == 250 and dict(spec.train)["batch_size"] == 128
        dwf = [c for c in expand(spec) if c.method == "dwf"]
        assert {c.depth: c.lr for c in dwf} == dict(zip((2, 3, 4), lrs)), name


def test_smoke_is_tiny():
    trials = expand(load_spec("smoke"))
    assert sorted(c.method for c in trials) == ["dense", "dwf", "gmp", "snip"]
    assert all(c.epochs == 1 and c.seed == 0 and c.dataset == "fmnist" for c in trials)
    assert [(c.compressions, c.finetune_epochs) for c in trials if c.method == "gmp"] == [((10.0,), 1)]


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
    small = apply_overrides(spec, epochs=2, seeds=[0, 1], methods=["dwf", "gmp", "snip"], max_grid=3)
    trials = expand(small, placeholder_lr=True)
    assert {c.method for c in trials} == {"dwf", "gmp", "snip"}
    assert {c.epochs for c in trials} == {2} and {c.seed for c in trials} == {0, 1}
    dwf = [c for c in trials if c.method == "dwf"]
    full = sorted({c.lam for c in expand(spec, placeholder_lr=True) if c.method == "dwf"})
    assert sorted({c.lam for c in dwf}) == [full[0], full[len(full) // 2], full[-1]]  # ends and middle
    assert len(dwf) == 3 * 3 * 2
    gmp = [c for c in trials if c.method == "gmp"]
    ends_and_middle = [PRUNING_TARGETS[0], PRUNING_TARGETS[len(PRUNING_TARGETS) // 2], PRUNING_TARGETS[-1]]
    assert sorted({c.compressions[0] for c in gmp}) == ends_and_middle and len(gmp) == 3 * 2
    assert {c.finetune_epochs for c in gmp} == {2}  # retraining capped by --epochs too
    assert sorted({c.compressions[0] for c in trials if c.method == "snip"}) == ends_and_middle
    with pytest.raises(SpecError, match="--methods.*allowed: dense, dwf"):
        apply_overrides(spec, methods=["dwf", "nope"])
    with pytest.raises(SpecError, match="--epochs"):
        apply_overrides(spec, epochs=0)
    with pytest.raises(SpecError, match="--seeds"):
        apply_overrides(spec, seeds=[0, 0])


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
