"""`bench report NAME --search shared`: a Table 2 level cell the shared search stopped as "estimated" shows the
estimate (marked, with its interval and bracket) in every format and in paper.md; without `--search shared`
the report is the measured rule's, byte for byte. A synthetic store, filled by the shared search on the stub's
known curve (tests/adaptive_stub.py): no training."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from adaptive_stub import default_curve
from suite.analysis.estimates import LevelEstimate, with_estimates
from suite.cli.main import app
from suite.config import TrialConfig
from suite.results.store import TrialResult, write_trial
from suite.run.search.driving import run_serial
from suite.run.plan import make_plan
from suite.run.search.shared.driving import SharedPlan
from suite.run.search.shared.preview import shared_report
from suite.sweep.loading import load_spec

LEVELS = [200, 400, 800]  # on the stub's curve CR 200 and 800 are estimated, CR 400 measured
SPARSITIES = {cr: f"{1 - 1 / cr:g}" for cr in LEVELS}  # Table 2's column keys


def write_spec(tmp_path: Path) -> Path:
    path = tmp_path / "est.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: est
        model: lenet300
        dataset: synthetic
        train: {{epochs: 1, lr: 0.15}}
        seeds: [0, 1, 2]
        adaptive: {{budget: 12, eps: [5, 10], levels: {LEVELS}}}
        methods:
          dense: {{}}
          dwf: {{depth: [3], lam: [1.0e-6, 1.0e-1]}}
        paper:
          accuracy:
            Dense: [[90.00, 0.10]]
            DWF (D=3): [[80.00, 0.10], [86.90, 0.10], [85.50, 0.10]]
          levels: {LEVELS}
        """))
    return path


def train(root: Path):
    """The stub's curve (CR = 10 λ / 1e-6, accuracy falling with log CR beyond CR 100), seeds a little apart,
    written to the store as the worker writes a trial (a million counted weights)."""
    def run(cfg: TrialConfig) -> list[dict]:
        cr = 1.0 if cfg.method == "dense" else 10.0 * cfg.lam / 1e-6
        acc = (0.90 if cfg.method == "dense" else default_curve(cr)) + (0.0, 0.003, -0.003)[cfg.seed]
        rows = [{"sweep": "est", "method": cfg.method, "model": cfg.model, "dataset": cfg.dataset,
                 "depth": cfg.depth, "lam": cfg.lam, "lr": cfg.lr, "seed": cfg.seed, "epochs": cfg.epochs,
                 "point": "final", "point_id": 0, "target_compression": None, "status": "ok", "test_acc": acc,
                 "total_params": 10**6, "nonzero_params": round(10**6 / cr), "compression_ratio": cr,
                 "sparsity": 1 - 1 / cr, "config_hash": cfg.config_hash,
                 "config_json": json.dumps(cfg.to_dict(), sort_keys=True, default=list)}]
        write_trial(root, "est", TrialResult(rows))
        return rows
    return run


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """(spec path, results root, the finished search): the shared search run to its end into a store."""
    tmp = tmp_path_factory.mktemp("estimates")
    spec, root = write_spec(tmp), tmp / "res"
    loaded = load_spec(spec)
    plan = SharedPlan(make_plan(loaded, str(root)).listed(), loaded.adaptive_settings)
    run_serial(plan, train(root))
    assert plan.finished
    return spec, root, plan


def report(tmp_path: Path, spec: Path, root: Path, *extra: str) -> Path:
    out = tmp_path / ("shared" if extra else "plain")
    done = CliRunner().invoke(app, ["report", "est", "--results", str(root), "--spec", str(spec), "--out", str(out),
                                    "--table", "accuracy", *extra])
    assert done.exit_code == 0, done.output
    return out


def test_the_search_hands_the_report_each_estimated_level_with_its_bracket(searched):
    spec, root, plan = searched
    _, estimates = shared_report(make_plan(load_spec(spec), str(root)))
    estimated = {c.value: c for c in plan.cells if c.status == "estimated"}
    assert set(estimated) == {200, 800}  # the stub's curve is straight in log CR beyond CR 100: estimates hold
    assert {e.level for e in estimates} == set(estimated)
    for est in estimates:
        cell, group = estimated[est.level], plan.search.groups[estimated[est.level].group]
        assert (est.model, est.dataset, est.label, est.axis) == ("lenet300", "synthetic", "DWF (D=3)", "lam")
        assert (est.value, (est.lo, est.hi), (est.a, est.b)) == (cell.result, cell.interval, cell.bracket)
        assert (est.cr_a, est.cr_b) == (group.stats(est.a).cr, group.stats(est.b).cr)
        assert est.cr_a < est.level <= est.cr_b and est.lo <= est.value <= est.hi
        assert est.basis in ("narrow", "flat", "curvature")


def test_table_2_and_paper_md_show_the_estimate_marked_with_interval_and_bracket(searched, tmp_path):
    spec, root, plan = searched
    _, estimates = shared_report(make_plan(load_spec(spec), str(root)))
    est = next(e for e in estimates if e.level == 200)
    key, cr = SPARSITIES[200], lambda v: f"{v:.0f}" if v >= 10 else f"{v:.2f}"
    shown = f"{100 * est.value:.2f} est. [{100 * est.lo:.2f}, {100 * est.hi:.2f}] (CR {cr(est.cr_a)}–{cr(est.cr_b)})"
    out = report(tmp_path, spec, root, "--search", "shared")
    markdown = (out / "accuracy.md").read_text()
    assert shown in markdown and "'est.': a level the shared search" in markdown
    dwf = pd.read_csv(out / "accuracy.csv").set_index("label").loc["DWF (D=3)"]
    assert dwf[f"mean@{key}"] == pytest.approx(est.value)
    assert (dwf[f"lo@{key}"], dwf[f"hi@{key}"]) == pytest.approx((est.lo, est.hi))
    assert (dwf[f"est_cr_a@{key}"], dwf[f"est_cr_b@{key}"]) == pytest.approx((est.cr_a, est.cr_b))
    assert dwf[f"estimate@{key}"] == est.description and dwf[f"estimate@{key}"].startswith("λ ")
    assert math.isnan(dwf[f"std@{key}"]) and math.isnan(dwf[f"config@{key}"])  # no one configuration
    assert dwf[f"sparsity@{key}"] == pytest.approx(1 - 1 / 200)  # at the level itself: no '(at CR N)'
    latex = (out / "accuracy.tex").read_text()
    assert shown.replace("–", "--") in latex and "est." in (out / "index.html").read_text()
    paper = (out / "paper.md").read_text()
    # The paper's 80.00 at CR 200 is far from the estimate: ✗ judges the estimate's value.
    assert f"{shown} / 80.00 **✗**" in paper and "'est. [lo, hi] (CR a–b)'" in paper
    at_800 = next(e for e in estimates if e.level == 800)
    assert f"{100 * at_800.value:.2f} est. [" in paper and "/ 85.50 |" in paper  # within the tolerance: no ✗
    dense_row = pd.read_csv(out / "accuracy.csv").set_index("label").loc["Dense"]
    assert pd.isna(dense_row[f"estimate@{key}"])  # other cells: the measured rule's, no estimate


def test_without_search_shared_the_report_is_unchanged(searched, tmp_path):
    spec, root, _ = searched
    plain = report(tmp_path, spec, root)
    markdown, paper = (plain / "accuracy.md").read_text(), (plain / "paper.md").read_text()
    assert "est." not in markdown and "est." not in paper and "estimate@" not in (plain / "accuracy.csv").read_text()
    assert "(at CR 1000)" in markdown  # the measured rule fills CR 800 from a sparser configuration


def test_an_estimate_gives_way_to_a_more_accurate_measured_cell_and_nothing_changes_without_one():
    table = pd.DataFrame([{"model": "m", "dataset": "d", "label": "DWF (D=3)", "seeds": 3, "mean@0.99": 0.85,
                           "std@0.99": 0.01, "n_seeds@0.99": 3, "sparsity@0.99": 0.995, "lam@0.99": 1e-3,
                           "lr@0.99": 0.1, "target@0.99": math.nan, "config@0.99": 4, "lo@0.99": 0.84,
                           "hi@0.99": 0.86}])
    assert with_estimates(table, []) is table

    def estimate(value):
        return LevelEstimate("m", "d", "DWF (D=3)", 100.0, value, value - 0.01, value + 0.01, "lam", 1e-3, 2e-3,
                             80.0, 130.0, "flat")

    assert with_estimates(table, [estimate(0.84)]).at[0, "mean@0.99"] == 0.85  # the measured cell is better
    assert pd.isna(with_estimates(table, [estimate(0.84)]).at[0, "estimate@0.99"])
    placed = with_estimates(table, [estimate(0.86), estimate(0.87)])  # of two estimates, the more accurate
    assert placed.at[0, "mean@0.99"] == 0.87 and placed.at[0, "estimate@0.99"].endswith("flat bound")
    assert pd.isna(placed.at[0, "n_seeds@0.99"]) and math.isnan(placed.at[0, "lam@0.99"])
    other = LevelEstimate("m", "other", "DWF (D=3)", 100.0, 0.9, 0.89, 0.91, "lam", 1e-3, 2e-3, 80.0, 130.0)
    assert pd.isna(with_estimates(table, [other]).at[0, "estimate@0.99"])  # another section's: not placed


def test_a_sweep_run_on_fewer_seeds_is_reported_as_it_ran_with_its_seeds(tmp_path):
    """`bench sweep --seeds 0,1` then `bench report --seeds 0,1` (the flag the sweep's summary hands on): the
    report replays the search at the sweep's seeds and finds it settled; at the spec's seeds it would wait for
    seed 2 of every point and settle nothing."""
    from suite.sweep.options import SweepOptions

    spec, root = write_spec(tmp_path), tmp_path / "res"
    ran = SweepOptions(seeds=(0, 1)).apply(load_spec(spec))
    plan = SharedPlan(make_plan(ran, str(root)).listed(), ran.adaptive_settings)
    run_serial(plan, train(root))
    assert plan.finished

    def settled(*flags: str) -> set[str]:
        out = report(tmp_path / "_".join(flags or ("spec",)), spec, root, "--search", "shared", *flags)
        searches = pd.read_csv(out / "searches.csv")
        return set(searches.loc[searches.status != "running", "cell"])

    assert settled("--seeds", "0,1") == {c.name for c in plan.cells if c.status != "running"} != set()
    assert settled() == set()
    refused = CliRunner().invoke(app, ["report", "est", "--spec", str(spec), "--results", str(root), "--seeds", "x"])
    assert refused.exit_code == 2 and "--seeds 'x': allowed: comma-separated integers" in refused.output
    refused = CliRunner().invoke(app, ["report", "est", "--spec", str(spec), "--results", str(root), "--methods", ","])
    assert refused.exit_code == 2 and "--methods ',': allowed: comma-separated method names" in refused.output
    for flags, said in ((["--seeds", "0,0"], "--seeds: [0, 0] is not allowed; allowed: distinct integers"),
                        (["--max-grid", "0"], "--max-grid: 0 is out of range; allowed: an integer >= 1")):
        # judged on the spec before the store is read: a store that is not there is not what it names
        refused = CliRunner().invoke(app, ["report", "est", "--spec", str(spec), "--results", str(tmp_path / "none"),
                                           *flags])
        assert refused.exit_code == 2 and said in " ".join(refused.output.split()), refused.output
