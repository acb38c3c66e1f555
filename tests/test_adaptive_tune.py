"""The adaptive search through Ray Tune, end to end on the synthetic dataset (1 epoch; ~40 s)."""

import textwrap

import pytest

from suite.run.search.driving import progress
from suite.analysis.tables import compression_table
from suite.results.store import done_hashes, load_table
from suite.sweep.loading import load_spec
from suite.sweep.spec import SpecError


def _spec(tmp_path, adaptive: str):
    path = tmp_path / "adaptive.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: adapt
        model: lenet300
        dataset: synthetic
        train: {{epochs: 1, lr: 0.15}}
        seeds: [0]
        adaptive: {adaptive}
        methods:
          dense: {{}}
          dwf: {{depth: [2], lam: {{logspace: [1.0e-6, 1.0e-1, 20]}}, lr: 0.3}}
          snip: {{compression: {{logspace: [10, 1.0e4, 10]}}}}
        """))
    return load_spec(path)


def test_bad_adaptive_key_names_the_file_and_key(tmp_path):
    with pytest.raises(SpecError, match=r"adaptive.yaml: key 'adaptive.budget'.*allowed: an integer >= 1"):
        _spec(tmp_path, "{budget: 0}")


@pytest.mark.slow
def test_adaptive_sweep_through_tune_and_its_resume(tmp_path):
    from suite.run.driver import run_sweep
    from suite.run.outcome import RunOptions

    spec = _spec(tmp_path, "{budget: 2, eps: [5], levels: [100]}")
    root = tmp_path / "res"
    outcome = run_sweep(spec, RunOptions(results=str(root), num_cpus=2, adaptive=True))
    plan = outcome.adaptive
    assert outcome.ok and plan.finished and outcome.total == len(plan.used) == len(outcome.records)
    assert done_hashes(root, "adapt") == plan.used  # ordinary trials in the ordinary store
    assert outcome.total <= 1 + 2 * 2 + 1 < plan.grid_trials == 1 + 20 + 10  # budget 2 per cell
    # The search's ε cells are the report's cells over the same store.
    table = compression_table(load_table(root, "adapt"), [5]).set_index("label")
    for cell in plan.cells:
        if cell.kind == "eps" and cell.cell_x is not None:
            column = "lam@5" if cell.group.axis == "lam" else "target@5"
            label = "DWF (D=2)" if cell.group.axis == "lam" else "SNIP"
            assert table.loc[label, column] == pytest.approx(cell.cell_x)
    # A second run trains nothing and reaches the same cells.
    again = run_sweep(spec, RunOptions(results=str(root), num_cpus=2, adaptive=True))
    assert not again.records and again.already_done == again.total == outcome.total
    assert progress(again.adaptive) == progress(plan)
