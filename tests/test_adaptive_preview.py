"""`bench sweep --adaptive --dry-run`: the searches, their brackets, budgets and stored trials (no training)."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from bench_subprocess import bench_imports
from suite.analysis.writing import SEARCH_COLUMNS
from suite.config import TrialConfig
from suite.results.store import TrialResult, write_trial
from suite.run.search.bisect.plan import snap
from suite.run.search.preview import preview_adaptive
from suite.run.plan import make_plan
from suite.sweep.loading import load_spec

LAMS = [1.0e-6, 1.0e-4, 1.0e-1]
TARGETS = [10.0, 100.0, 1000.0]
SEARCHES = {"dwf D=2 ε=5", "dwf D=2 CR≥100", "snip ε=5", "snip CR≥100"}


def write_spec(tmp_path: Path, dwf_lr: str = "0.3") -> Path:
    path = tmp_path / "adapt.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: adapt
        model: lenet300
        dataset: synthetic
        train: {{epochs: 1, lr: 0.15}}
        seeds: [0, 1]
        lr_search: {{budget: 2, grid: [0.1, 0.3]}}
        adaptive: {{budget: 3, eps: [5], levels: [100]}}
        methods:
          dense: {{}}
          dwf: {{depth: [2], lam: {LAMS}, lr: {dwf_lr}}}
          snip: {{compression: {TARGETS}}}
        """))
    return path


def store(root: Path, cfg: TrialConfig, acc: float, cr: float) -> None:
    """A finished trial as the worker writes it (the fields the search judges by)."""
    write_trial(root, "adapt", TrialResult([{
        "sweep": "adapt", "method": cfg.method, "model": cfg.model, "dataset": cfg.dataset, "depth": cfg.depth,
        "lam": cfg.lam, "lr": cfg.lr, "seed": cfg.seed, "epochs": cfg.epochs, "point": "final", "point_id": 0,
        "target_compression": cfg.compressions[0] if cfg.compressions else None, "status": "ok", "test_acc": acc,
        "total_params": 1000, "nonzero_params": round(1000 / cr), "compression_ratio": cr, "sparsity": 1 - 1 / cr,
        "config_hash": cfg.config_hash, "config_json": json.dumps(cfg.to_dict(), sort_keys=True, default=list),
    }]))


def base(method: str, seed: int, **fields) -> TrialConfig:
    return TrialConfig(model="lenet300", dataset="synthetic", method=method, seed=seed, epochs=1, sweep="adapt",
                       **fields)


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_each_search_with_its_axis_bracket_and_budget_on_an_empty_store(tmp_path):
    preview = preview_adaptive(make_plan(load_spec(write_spec(tmp_path)), str(tmp_path / "none")))
    searches = {s.title: s for s in preview.searches}
    assert set(searches) == SEARCHES
    dwf, snip = searches["dwf D=2 ε=5"], searches["snip CR≥100"]
    assert (dwf.method, dwf.depth, dwf.cell, dwf.axis, dwf.bracket) == ("dwf", 2, "ε=5", "lam", (1e-6, 0.1))
    assert searches["snip ε=5"].axis == "compression" and searches["snip ε=5"].bracket == (10.0, 1000.0)
    assert dwf.budget == snip.budget == 3 * 2  # the spec's budget of points x seeds
    assert all(s.reused == 0 and s.status == "running" and not s.lr_pending for s in searches.values())
    assert preview.fixed == {"dense": (2, 0)}
    # dense 2 + four searches of 6, less the first point the two dwf searches share
    assert preview.at_most == 2 + 4 * 6 - 2
    assert preview.grid_trials == 2 * (1 + len(LAMS) + len(TARGETS))
    assert not (tmp_path / "none").exists()


def test_stored_trials_are_reused_and_may_settle_a_search_without_writing(tmp_path):
    root = tmp_path / "res"
    first = snap(math.sqrt(LAMS[0] * LAMS[-1]))  # where both dwf searches start
    for seed in (0, 1):
        store(root, base("dense", seed), 0.90, 1.0)
        store(root, base("dwf", seed, depth=2, lam=first, lr=0.3), 0.89, 300.0)
        store(root, base("snip", seed, compressions=[100.0]), 0.88, 100.0)
    before = files(root)
    preview = preview_adaptive(make_plan(load_spec(write_spec(tmp_path)), str(root)))
    searches = {s.title: s for s in preview.searches}
    assert searches["dwf D=2 ε=5"].reused == searches["dwf D=2 CR≥100"].reused == 2
    assert searches["dwf D=2 ε=5"].status == "running"  # it goes on above the qualifying midpoint
    assert searches["snip CR≥100"].reused == 2 and searches["snip CR≥100"].status == "resolved"
    assert searches["snip ε=5"].reused == 2  # it starts at 100, the midpoint of [10, 1000]: the level's trials
    assert preview.fixed == {"dense": (2, 2)} and preview.reused == 6  # distinct trials, each counted once
    # The report's searches.csv takes its columns from SEARCH_COLUMNS: each record has exactly those keys.
    assert all(tuple(record) == SEARCH_COLUMNS for record in preview.records())
    assert files(root) == before


def test_trials_waiting_for_an_lr_search_reuse_nothing_stored_under_a_stand_in_lr(tmp_path):
    root = tmp_path / "res"
    first = snap(math.sqrt(LAMS[0] * LAMS[-1]))
    for seed in (0, 1):
        store(root, base("dense", seed), 0.90, 1.0)
        store(root, base("dwf", seed, depth=2, lam=first, lr=1.0), 0.89, 300.0)  # lr 1.0: the stand-in
    preview = preview_adaptive(make_plan(load_spec(write_spec(tmp_path, dwf_lr="auto")), str(root)))
    searches = {s.title: s for s in preview.searches}
    assert searches["dwf D=2 ε=5"].lr_pending and searches["dwf D=2 ε=5"].reused == 0
    assert not searches["snip ε=5"].lr_pending
    assert preview.grid_trials == 2 * (1 + len(LAMS) + len(TARGETS))  # the waiting trials count in the grid


def test_cli_dry_run_prints_every_search_without_ray_or_a_results_folder(tmp_path):
    spec, root = write_spec(tmp_path), tmp_path / "res"
    heavy, stdout = bench_imports("sweep", str(spec), "--adaptive", "--dry-run", "--results", str(root))
    assert heavy == []
    printed = [line for line in stdout.splitlines() if line.startswith("search ")]
    assert {line.split(":")[0].removeprefix("search ") for line in printed} == SEARCHES
    assert not root.exists()


def test_cli_refuses_eps_cells_without_dense_before_anything_runs(tmp_path):
    """--methods leaving dense out: the ε cells have no reference, a clear error (exit 2) and no
    results folder; the same sweep with dense, or a spec with no ε cells, is accepted."""
    from typer.testing import CliRunner

    from suite.cli.main import app

    spec, root = write_spec(tmp_path), tmp_path / "res"
    args = ["sweep", str(spec), "--adaptive", "--dry-run", "--results", str(root)]
    refused = CliRunner().invoke(app, args + ["--methods", "dwf,snip"])
    assert refused.exit_code == 2
    assert ("--adaptive: the ε cells are measured against the dense model, which this sweep does not run; "
            "allowed: a sweep with the dense method (in --methods too, where given)") \
        in " ".join(refused.output.split())
    assert not root.exists()
    assert CliRunner().invoke(app, args + ["--methods", "dense,dwf"]).exit_code == 0
    spec.write_text(spec.read_text().replace("eps: [5]", "eps: []"))
    assert CliRunner().invoke(app, args + ["--methods", "dwf,snip"]).exit_code == 0


def test_cli_refuses_a_dense_block_with_two_configurations_per_seed_before_anything_runs(tmp_path):
    """Two dense learning rates: the ε threshold would be a median over two models (the shared search would
    run one of them only). Refused for both searches, naming the field, with no results folder."""
    from typer.testing import CliRunner

    from suite.cli.main import app

    spec, root = write_spec(tmp_path), tmp_path / "res"
    spec.write_text(spec.read_text().replace("dense: {}", "dense: {lr: [0.1, 0.2]}"))
    for search in ("bisect", "shared"):
        args = ["sweep", str(spec), "--adaptive", "--search", search, "--dry-run", "--results", str(root)]
        refused = CliRunner().invoke(app, args)
        assert refused.exit_code == 2, refused.output
        assert ("the dense model is the ε cells' reference and has 2 configurations per seed (they differ in lr)"
                in " ".join(refused.output.split()))
        assert not root.exists()
    spec.write_text(spec.read_text().replace("dense: {lr: [0.1, 0.2]}", "dense: {lr: 0.2}"))
    assert CliRunner().invoke(app, args).exit_code == 0


def test_the_report_of_an_adaptive_sweep_says_which_searches_are_open(tmp_path):
    """`bench report` replays the store as a resumed run would: a settled search's cell is final, an open
    one's can still move. The spec's `adaptive` key implies --adaptive; --methods narrows it as the run's did."""
    from typer.testing import CliRunner

    from suite.cli.main import app

    root, spec = tmp_path / "res", write_spec(tmp_path)
    first = snap(math.sqrt(LAMS[0] * LAMS[-1]))
    for seed in (0, 1):
        store(root, base("dense", seed), 0.90, 1.0)
        store(root, base("dwf", seed, depth=2, lam=first, lr=0.3), 0.89, 300.0)
        store(root, base("snip", seed, compressions=[100.0]), 0.88, 100.0)

    def index(*extra: str):
        out = tmp_path / "out"
        done = CliRunner().invoke(app, ["report", "adapt", "--results", str(root), "--out", str(out),
                                        "--table", "compression", *extra])
        text = (out / "index.md").read_text() if done.exit_code == 0 else ""
        # The console wraps long lines: the output is compared with its whitespace collapsed.
        return SimpleNamespace(exit_code=done.exit_code, output=" ".join(done.output.split())), \
            text.split("## Adaptive searches\n", 1)[-1].split("\n## ", 1)[0]

    done, searches = index("--spec", str(spec))
    assert done.exit_code == 0, done.output
    assert "1 of 4 searches have settled" in searches and "adaptive: 1 of 4 searches settled; 3 open" in done.output
    listed = [line[2:] for line in searches.splitlines() if line.startswith("- ")]
    assert sorted(line.split(":")[0] for line in listed) == sorted(SEARCHES - {"snip CR≥100"})
    # Each open search with its bracket and the trials of it stored: the dwf searches share their first point.
    assert all(line.endswith("· 2 trial(s) stored") for line in listed if line.startswith("dwf"))
    done, searches = index("--spec", str(spec), "--methods", "dense,snip")
    assert done.exit_code == 0 and "1 of 2 searches have settled" in searches
    stored = pd.read_csv(tmp_path / "out" / "searches.csv")  # snip's search has no depth: an empty cell
    assert dict(zip(stored["search"], stored["settled"])) == {"snip ε=5": False, "snip CR≥100": True}
    assert stored["depth"].isna().all() and set(stored["status"]) == {"running", "resolved"}
    # The searches are the spec's to define: no spec, no list; a spec of another sweep is refused.
    done, _ = index("--adaptive")
    assert done.exit_code == 2 and "--adaptive: no sweep spec sweeps/adapt.yaml; name the spec" in done.output
    other = tmp_path / "other.yaml"
    other.write_text(spec.read_text().replace("name: adapt", "name: other"))
    done, _ = index("--spec", str(other))
    assert done.exit_code == 2 and "is the spec of sweep 'other', not of 'adapt'" in done.output
    done, _ = index("--spec", str(tmp_path / "nosuch.yaml"))
    assert done.exit_code == 2 and "nosuch.yaml" in done.output
    done, _ = index("--methods", "dwf")  # which searches, without the spec that defines them?
    assert done.exit_code == 2 and "--methods: no sweep spec sweeps/adapt.yaml" in done.output
    # Trials of a quick look (`bench sweep --epochs 1` of a 3-epoch spec) are the searches' only with --epochs 1.
    longer = tmp_path / "longer" / "adapt.yaml"
    longer.parent.mkdir()
    longer.write_text(spec.read_text().replace("epochs: 1,", "epochs: 3,"))
    done, searches = index("--spec", str(longer))
    assert done.exit_code == 0 and "0 of 4 searches have settled" in searches
    done, searches = index("--spec", str(longer), "--epochs", "1")
    assert done.exit_code == 0 and "1 of 4 searches have settled" in searches
