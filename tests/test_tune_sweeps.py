"""Sweeps through Ray Tune on one machine: the plan, the lr search, the URI store, trials run once and reused.

The Ray test starts a real (local) Ray instance: it is marked slow but runs in CI.
Every spec here uses the synthetic dataset, LeNet-300-100 and 1 epoch.
"""

import json

import pytest

from bench_subprocess import bench_imports
from suite.results.store import done_hashes, load_table
from suite.run.driver import pin_data
from suite.sweep.expansion import expand, lr_searches
from suite.sweep.loading import load_spec
from bench_subprocess import write_spec

# Two seeds of dense and of DWF at D = 2 (lr `auto`: an lr search first) and D = 3 (lr 0.3).
AUTO_LR_SPEC = """\
    name: auto_lr
    model: lenet300
    dataset: synthetic
    train: {epochs: 1}
    seeds: [0, 1]
    lr_search: {budget: 2, grid: [0.1, 0.3]}
    methods:
      dense: {}
      dwf: {depth: [2, 3], lam: [1.0e-6, 1.0e-3], lr: {2: auto, 3: 0.3}}
    """


# --------------------------------------------------------------------------- without Ray


def test_execute_trial_writes_through_a_uri_store(tmp_path):
    """The worker-side function on a file:// URI root: pyarrow filesystem writes, no temp files left."""
    from suite.run.worker import execute_trial

    root = f"file://{tmp_path}/store"
    cfg = dict(model="lenet300", dataset="synthetic", method="gmp_oneshot", compressions=[10.0, 100.0], epochs=1,
               sweep="uri")
    from suite.config import TrialConfig

    from suite.core.data.registry import clear_cache

    config = TrialConfig(**cfg)
    clear_cache()  # this process has not loaded the data yet: the trial loads it
    metrics = execute_trial(config.to_dict(), {"results": root, "cpus_per_trial": 1})
    assert metrics["status"] == "ok" and metrics["config_hash"] == config.config_hash
    assert metrics["data_loaded"] is True
    assert done_hashes(root, "uri") == {config.config_hash}
    rows = load_table(root, "uri")
    assert len(rows) == 2 and sorted(rows.target_compression) == [10.0, 100.0]
    assert not [p for p in (tmp_path / "store").rglob("*") if p.name.startswith(".")]
    # Reading back for the lr search (reuse_done) does not train again.
    again = execute_trial(config.to_dict(), {"results": root, "cpus_per_trial": 1}, reuse_done=True)
    assert again["status"] == "reused" and again["test_acc"] == metrics["test_acc"]
    # Another trial in the same process gets the dataset this process loaded (what a reused Ray actor relies on).
    other = execute_trial({**config.to_dict(), "seed": 1}, {"results": root, "cpus_per_trial": 1})
    assert other["status"] == "ok" and other["data_loaded"] is False


def test_dry_run_imports_no_ray_and_creates_nothing(tmp_path):
    """`bench sweep --dry-run` prints the plan (an lr search pending) from a subprocess that never imports Ray
    or Optuna, and leaves no results folder behind."""
    spec = write_spec(tmp_path, AUTO_LR_SPEC)
    root = tmp_path / "res"
    heavy, stdout = bench_imports("sweep", str(spec), "--dry-run", "--results", str(root))
    assert heavy == []
    assert not root.exists()
    table = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:5]]
             for line in stdout.splitlines() if line.count("│") == 5}
    assert table["dwf"] == ["8", "0", "8"] and table["total"] == ["10", "0", "10"]  # 4 wait for the lr search
    assert "auto -> Optuna search first (2 trials" in stdout


def test_a_plan_with_a_pending_lr_search_and_after_it(tmp_path):
    """Trials waiting for an lr search are counted, not hashed; once it has chosen (or failed) the plan says so."""
    from suite.run.plan import make_plan

    spec = load_spec(write_spec(tmp_path, AUTO_LR_SPEC))
    plan = make_plan(spec, str(tmp_path / "res"))
    (search,) = lr_searches(spec)
    assert plan.pending == [search] and plan.waiting == {"dwf": 4} and plan.blocked == 4
    assert len(plan.trials) == len(plan.todo) == 2 + 4 and plan.already_done == 0
    assert plan.per_method() == [("dense", 2, 0), ("dwf", 8, 0)]
    failed = plan.with_lrs({})
    assert failed.blocked == 4 and failed.trials == plan.trials
    chosen = plan.with_lrs({search.key: {"lr": 0.1}})
    assert not chosen.pending and chosen.blocked == 0
    assert [c.config_hash for c in chosen.trials] == [c.config_hash for c in expand(spec, {search.key: 0.1})]


def test_a_sweep_with_nothing_left_plans_once_and_starts_no_ray(tmp_path, monkeypatch):
    """The driver reads its plan from the spec and the store once (one grid expansion) and hands it down."""
    from suite.run import plan as plan_module
    from suite.run.driver import run_sweep
    from suite.run.outcome import RunOptions
    from suite.run.worker import execute_trial

    spec = load_spec(write_spec(tmp_path, """\
        name: once
        model: lenet300
        dataset: synthetic
        train: {epochs: 1}
        seeds: [0]
        methods:
          dense: {}
        """))
    root = str(tmp_path / "res")
    (cfg,) = expand(pin_data(spec, None, download=False))  # as the driver pins it to the data found
    assert execute_trial(cfg.to_dict(), {"results": root, "cpus_per_trial": 1})["status"] == "ok"
    calls = []
    from suite.run import driver as driver_module
    from suite.sweep.expansion import expand_spec

    for module in (plan_module, driver_module):  # the spec is expanded once, the plan resolves that
        monkeypatch.setattr(module, "expand_spec", lambda *a, **k: calls.append(1) or expand_spec(*a, **k))
    outcome = run_sweep(spec, RunOptions(results=root))
    assert outcome.ok and not outcome.ray_started and not outcome.records
    assert outcome.total == outcome.already_done == 1 and len(calls) == 1


# --------------------------------------------------------------------------- with Ray


@pytest.mark.slow
def test_sweep_with_lr_search_runs_once_and_reuses_everything(tmp_path):
    """In-process: Optuna lr search first, then the grid; workers reused; a re-run starts no Ray."""
    from suite.run.driver import run_sweep
    from suite.run.outcome import RunOptions

    spec = load_spec(write_spec(tmp_path, """\
        name: tunetest
        model: lenet300
        dataset: synthetic
        train: {epochs: 1, lr: 0.15}
        seeds: [0]
        lr_search: {budget: 2, grid: [0.1, 0.3, 0.6]}
        methods:
          dense: {}
          dwf: {depth: [2, 3], lam: [1.0e-6, 1.0e-3], lr: {2: auto, 3: 0.3}}
          gmp: {compression: [10, 100], finetune_epochs: 1}
          snip: {compression: [10]}
        """))
    root = tmp_path / "res"
    outcome = run_sweep(spec, RunOptions(results=str(root), num_cpus=2))
    assert outcome.ok and outcome.ray_started and outcome.concurrency == 2
    spec = pin_data(spec, None, download=False)  # the trials as the driver planned them: on the data found
    # The search: 2 distinct lrs from the grid at λ = 1e-6, chosen lr stored.
    (search,) = lr_searches(spec)
    choice = json.loads((root / "tunetest" / "lr_search" / f"{search.key}.json").read_text())
    assert len(choice["trials"]) == 2 and len({t["lr"] for t in choice["trials"]}) == 2
    assert choice["lr"] in (0.1, 0.3, 0.6) and choice["lam"] == 1e-6
    assert choice["lr"] == max(choice["trials"], key=lambda t: (t["test_acc"], -t["lr"]))["lr"]
    assert len(done_hashes(root, "tunetest/lr_search")) == 2
    # The grid: every trial once, the auto depth at the chosen lr.
    trials = expand(spec, {search.key: choice["lr"]})
    assert len(trials) == 1 + 4 + 2 + 1  # GMP: one trial per target
    assert done_hashes(root, "tunetest") == {c.config_hash for c in trials}
    rows = load_table(root, "tunetest")
    assert len(rows) == 1 + 4 + 2 + 1  # one row per trial
    assert set(rows[(rows.method == "dwf") & (rows.depth == 2)].lr) == {choice["lr"]}
    assert set(rows.sweep) == {"tunetest"}
    # The search's best trial (λ = 1e-6, seed 0, chosen lr) is a grid trial: adopted, not trained again.
    adopted = search.config(choice["lr"]).config_hash
    assert adopted in done_hashes(root, "tunetest")
    assert json.loads(rows[rows.config_hash == adopted].config_json.iloc[0])["sweep"] == "tunetest"
    grid = outcome.records
    assert len(grid) == len(trials) - 1 and adopted not in {r.config_hash for r in grid}
    # Two slots -> at most two worker processes served all trials (actors reused, data loaded once each).
    pids = {r.metrics["pid"] for r in grid}
    assert len(pids) <= 2
    for pid in pids:  # a worker's trials run one after another: only its first may load the data
        loaded = [r.metrics["data_loaded"] for r in grid if r.metrics["pid"] == pid]
        assert not any(loaded[1:]), loaded
    assert {r.metrics["threads"] for r in grid} == {1}
    # Again: nothing to do, the lr is not searched again, Ray is not started.
    again = run_sweep(spec, RunOptions(results=str(root), num_cpus=2))
    assert not again.ray_started and again.already_done == again.total == len(trials)


def test_stored_lr_search_trials_are_found_after_a_defaulted_field_is_added(tmp_path, monkeypatch):
    """A search trial stored before omega_max existed lacks the key; compared field by field it was
    a different config, so an `auto` lr would have been searched (trained) again after the upgrade."""
    import pandas as pd

    from suite.run.lr import records as lr_records

    spec = load_spec(write_spec(tmp_path, """\
        name: upgraded
        model: lenet300
        dataset: synthetic
        train: {epochs: 1, lr: 0.15}
        seeds: [0]
        lr_search: {budget: 2, grid: [0.1, 0.3]}
        methods:
          dwf: {depth: [2], lam: [1.0e-3], lr: {2: auto}}
        """))
    (search,) = lr_searches(spec)
    old, new = search.config(0.3).to_dict(), search.config(0.1).to_dict()
    del old["omega_max"]  # written before the field existed
    retired = {**new, "lr": 0.6, "legacy": 1}  # a field this version does not know: not this search's trial
    rows = pd.DataFrame([{"point": "final", "config_json": json.dumps(c, default=list), "test_acc": 0.8,
                          "status": "ok", "config_hash": "h"} for c in (old, new, retired)])
    monkeypatch.setattr(lr_records, "load_table", lambda results, sweep: rows)
    assert [t["lr"] for t in lr_records.search_trials(search, str(tmp_path))] == [0.1, 0.3]
