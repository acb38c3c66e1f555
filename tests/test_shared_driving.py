"""`bench sweep --adaptive --search shared`: the shared search driven through TrialConfigs and stored rows
(suite.run.search.shared.driving.SharedPlan) on the stub's known curves (tests/adaptive_stub.py), and the CLI."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

from adaptive_stub import grid, settings, stub
from suite.cli.main import app
from suite.run.search.driving import cells_settled, run_serial
from suite.run.search.shared.driving import SharedPlan
from test_adaptive_preview import write_spec

SEEDS = (0, 1, 2)


def offsets(seed: int) -> float:
    return (0.0, 0.003, -0.003)[seed]


def finished(methods=("dwf", "synflow"), **kw) -> tuple[SharedPlan, dict]:
    plan, train, stored = SharedPlan(grid(methods, SEEDS), settings(**kw)), stub(seed_offset=offsets), {}

    def keep(cfg):
        stored[cfg.config_hash] = train(cfg)
        return stored[cfg.config_hash]

    assert cells_settled(plan) == f"0 of {len(plan.cells)} cells settled"  # the progress line's count
    run_serial(plan, keep)
    assert plan.finished and not plan.pending
    assert cells_settled(plan) == f"{len(plan.cells)} of {len(plan.cells)} cells settled"
    return plan, stored


def test_the_shared_plan_lands_on_the_stubs_known_boundaries():
    """ε = 5 fails above CR 1000, ε = 10 above CR 10^4 (on both axes); CR 100 and 1000 as levels."""
    plan, _ = finished(levels=(100.0, 1000.0))
    for cell in plan.cells:
        if cell.kind == "eps":
            boundary = 1000.0 if cell.value == 5 else 1e4
            assert cell.status in ("resolved", "axis"), cell.title
            assert abs(math.log(cell.result / boundary)) <= math.log(1.1) + 1e-9, (cell.title, cell.result)
        else:
            expected = 0.90 - 0.05 * math.log10(cell.value / 100)
            assert math.isclose(cell.result, expected, abs_tol=0.005), (cell.title, cell.result)


def test_every_configuration_a_cell_rests_on_is_stored_for_every_seed():
    plan, stored = finished(levels=(100.0,))
    for cell in plan.cells:
        base = plan.bases[cell.group]
        xs = [cell.cell_x] if cell.status != "estimated" else list(cell.bracket)
        for x in (x for x in xs if x is not None):
            assert all(cfg.config_hash in stored for cfg in base.configs(x)), (cell.title, x)


def test_dense_trains_first_and_resume_retrains_nothing():
    plan, stored = finished(levels=(100.0,))
    fresh = SharedPlan(grid(("dwf", "synflow"), SEEDS), settings(levels=(100.0,)))
    first = fresh.advance()
    assert min(first, key=fresh.priority).method == "dense" and fresh.priority(first[0]) == 0

    again = SharedPlan(grid(("dwf", "synflow"), SEEDS), settings(levels=(100.0,)))

    def refuse(cfg):
        raise AssertionError(f"trained {cfg.method} {cfg.lam} {cfg.compressions} on resume")

    assert run_serial(again, refuse, lookup=lambda cfg: stored.get(cfg.config_hash)) == 0
    assert again.used == plan.used and again.reused <= plan.used
    assert [(c.status, c.result) for c in again.cells] == [(c.status, c.result) for c in plan.cells]


def test_a_failed_trial_is_a_failed_point_not_a_crash():
    plan, train = SharedPlan(grid(("dwf",), SEEDS), settings()), stub(seed_offset=offsets)
    failed = set()

    def flaky(cfg):
        if cfg.method == "dwf" and not failed:
            failed.add(cfg.config_hash)
            return None  # the first DWF trial fails
        return train(cfg)

    run_serial(plan, flaky)
    assert plan.finished and failed <= plan.used
    assert all(c.status != "running" for c in plan.cells)


def test_cli_search_option(tmp_path):
    spec, root = write_spec(tmp_path), tmp_path / "res"
    spec.write_text(spec.read_text().replace("adaptive: {budget: 3, eps: [5], levels: [100]}\n", ""))
    args = ["sweep", str(spec), "--dry-run", "--results", str(root)]
    refused = CliRunner().invoke(app, args + ["--search", "shared"])
    assert refused.exit_code == 2
    assert "--search shared: allowed only with --adaptive" in " ".join(refused.output.split())
    assert CliRunner().invoke(app, args + ["--adaptive", "--search", "golden"]).exit_code == 2
    shown = CliRunner().invoke(app, args + ["--adaptive", "--search", "shared"])
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.output.splitlines() if line.startswith("search ")]
    assert {line.split(":")[0] for line in lines} >= {"search dwf D=2 ε=5", "search snip CR≥100"}
    assert "(interpolated)" in shown.output
    measured = CliRunner().invoke(app, args + ["--adaptive", "--search", "shared", "--level-rule", "measured"])
    assert measured.exit_code == 0 and "(measured)" in measured.output
    assert CliRunner().invoke(app, args + ["--adaptive", "--level-rule", "measured"]).exit_code == 2  # bisect
    assert CliRunner().invoke(app, args + ["--adaptive", "--search", "shared", "--level-rule", "x"]).exit_code == 2
    assert not root.exists()


@pytest.mark.slow
def test_shared_search_through_tune_and_its_resume(tmp_path):
    """End to end on the synthetic dataset (1 epoch, 2 seeds): ordinary trials in the ordinary store, every
    cell's configuration stored for every seed, and a second run trains nothing and reaches the same cells."""
    from suite.analysis.configurations import complete_rows
    from suite.analysis.tables import compression_table
    from suite.results.store import done_hashes, load_table
    from suite.run.driver import run_sweep
    from suite.run.outcome import RunOptions
    from suite.sweep.loading import load_spec

    spec = load_spec(write_spec(tmp_path))
    root = tmp_path / "res"
    options = RunOptions(results=str(root), num_cpus=2, adaptive=True, search="shared")
    outcome = run_sweep(spec, options)
    plan = outcome.adaptive
    assert isinstance(plan, SharedPlan) and outcome.ok and plan.finished
    assert done_hashes(root, "adapt") == plan.used and outcome.total == len(plan.used) == len(outcome.records)
    stored = done_hashes(root, "adapt")
    for cell in plan.cells:
        xs = [cell.cell_x] if cell.status != "estimated" else list(cell.bracket)
        for x in (x for x in xs if x is not None):
            assert all(cfg.config_hash in stored for cfg in plan.bases[cell.group].configs(x)), cell.title
    # The report's Table 1 over the configurations of every seed is the search's own ε cell.
    rows, dropped = complete_rows(load_table(root, "adapt"))
    table = compression_table(rows, [5]).set_index("label")
    single = sum(len(s) == 1 for g in plan.search.groups.values() for s in g.results.values())
    assert dropped == single
    for cell in (c for c in plan.cells if c.kind == "eps" and c.cell_x is not None):
        column, label = ("lam@5", "DWF (D=2)") if cell.group.startswith("dwf") else ("target@5", "SNIP")
        assert table.loc[label, column] == pytest.approx(cell.cell_x)
    # bench report --search shared: its searches, its one-seed points left out of the tables.
    out = tmp_path / "report"
    spec_path = str(tmp_path / "adapt.yaml")
    report = CliRunner().invoke(app, ["report", "adapt", "--results", str(root), "--spec", spec_path,
                                      "--search", "shared", "--out", str(out), "--table", "compression"])
    assert report.exit_code == 0, report.output
    searches = (out / "searches.csv").read_text().splitlines()
    assert len(searches) == 1 + len(plan.cells) and all(c.title in "\n".join(searches) for c in plan.cells)
    assert f"{dropped} configuration(s) measured on fewer seeds" in (out / "index.md").read_text()
    again = run_sweep(spec, options)
    assert not again.records and again.already_done == again.total == outcome.total
    assert [(c.status, c.result) for c in again.adaptive.cells] == [(c.status, c.result) for c in plan.cells]


def test_complete_rows_leaves_out_configurations_on_fewer_seeds_than_their_sections_most():
    import pandas as pd

    from suite.analysis.configurations import complete_rows

    def row(lam, seed, dataset="fmnist"):
        return {"method": "dwf", "model": "lenet300", "dataset": dataset, "depth": 2, "lam": lam, "lr": 0.15,
                "seed": seed, "epochs": 1, "point": "final", "status": "ok", "test_acc": 0.8,
                "compression_ratio": 10.0, "sparsity": 0.9, "total_params": 1000}

    rows = pd.DataFrame([row(1e-3, s) for s in SEEDS] + [row(2e-3, 0)]  # a one-seed point beside a full one
                        + [row(1e-3, 0, "mnist")])  # alone in its section: its section's most
    kept, dropped = complete_rows(rows)
    assert dropped == 1 and len(kept) == 4
    assert sorted(kept["lam"].tolist()) == [1e-3] * 4


def test_bench_submit_passes_the_search_on():
    from suite.sweep.options import SweepOptions

    assert SweepOptions(adaptive=True).flags() == ["--adaptive"]
    assert SweepOptions(adaptive=True, search="shared", level_rule="measured").flags() == [
        "--adaptive", "--search", "shared", "--level-rule", "measured"]
