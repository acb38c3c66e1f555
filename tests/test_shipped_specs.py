"""The shipped sweep specs (sweeps/*.yaml): each loads, and each follows its paper protocol (no Ray)."""

from pathlib import Path

from suite.grid import logspace
from suite.sweep.expansion import expand, lr_searches
from suite.sweep.loading import available_sweeps, load_spec

REPO = Path(__file__).resolve().parents[1]
PAPER_LAM = logspace(1e-6, 1e-1, 20)
PAPER_CR = logspace(10, 1e5, 15)
PRUNING_TARGETS = sorted(set(PAPER_CR) | {10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0})
TABLE2_LEVELS = (10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0)


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
    """The reference store's lr choices (results/archive/rebuilt-fmnist-split/lenet300_fmnist/lr_search/) are filed
    under these keys. A field added later (omega_max) changed every key, so finished searches counted as pending
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


def test_the_mnist_protocol_is_the_fashion_mnist_protocol_frozen():
    """The MNIST section is the out-of-sample check of choices made on Fashion-MNIST (docs/mnist_protocol.md):
    its spec may differ from lenet300_fmnist's in nothing but its name and dataset."""
    fmnist, mnist = load_spec("lenet300_fmnist"), load_spec("lenet300_mnist")
    assert (mnist.name, mnist.dataset) == ("lenet300_mnist", "mnist")
    same = ("model", "train", "seeds", "methods", "cpus_per_trial", "gpus_per_trial", "lr_search", "plugins",
            "adaptive")
    # `paper` (the published numbers a report compares with) is data about the section, not protocol.
    assert [getattr(mnist, key) for key in same] == [getattr(fmnist, key) for key in same]


def test_the_mnist_sections_table2_only_search_plans_exactly_the_specs_trials(tmp_path):
    """experiments/section_spec.py (the MNIST reference's search, docs/mnist_protocol.md): no ε cell, the
    levels and every other adaptive setting kept, and every trial the frozen spec's, hash for hash; the
    Fashion-MNIST section searches its spec itself."""
    import subprocess
    import sys

    def searched(name: str) -> str:
        return subprocess.run([sys.executable, str(REPO / "experiments" / "section_spec.py"), name,
                               str(tmp_path / f"{name}.yaml")], check=True, cwd=REPO, capture_output=True,
                              text=True).stdout.strip()

    copy = tmp_path / "lenet300_mnist.yaml"
    assert searched("lenet300_mnist") == str(copy)
    assert searched("lenet300_fmnist") == "sweeps/lenet300_fmnist.yaml"
    assert not (tmp_path / "lenet300_fmnist.yaml").exists()
    frozen, searched = load_spec("lenet300_mnist"), load_spec(copy)
    assert searched.adaptive_settings.eps == () and searched.name == frozen.name
    assert searched.adaptive_settings.levels == frozen.adaptive_settings.levels
    assert {c.config_hash for c in expand(searched)} == {c.config_hash for c in expand(frozen)}
