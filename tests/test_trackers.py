"""`bench sweep --log-to mlflow`: every trial becomes a run of an MLflow store that mlflow's own client reads."""

import pytest

from bench_subprocess import bench, write_spec
from suite.run.trackers import TrackerError, tracker_entries


def test_an_unknown_tracker_is_a_named_error(tmp_path):
    with pytest.raises(TrackerError, match="allowed: mlflow, tensorboard"):
        tracker_entries(["wandb"], str(tmp_path), "s")


def test_the_default_store_is_beside_the_results(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    ((name, uri),) = tracker_entries(["mlflow"], str(tmp_path), "s")
    assert name == "mlflow" and uri == f"sqlite:///{tmp_path.resolve()}/s/mlflow.db"
    assert tracker_entries(["mlflow"], str(tmp_path), "s", "sqlite:///x.db") == (("mlflow", "sqlite:///x.db"),)


@pytest.mark.slow
def test_a_sweep_logs_its_trials_to_mlflow(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    spec = write_spec(tmp_path, """\
        name: tracked
        model: lenet300
        dataset: synthetic
        train: {epochs: 1}
        seeds: [0]
        methods:
          dense: {}
          snip: {compression: [10]}
        """)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = bench("sweep", str(spec), "--results", str(tmp_path / "results"), "--num-cpus", "2",
                 "--log-to", "mlflow", "--mlflow-uri", uri)
    assert done.returncode == 0, done.stdout + done.stderr
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tracked")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    assert all(0.0 <= run.data.metrics["test_acc"] <= 1.0 for run in runs)
    assert {run.data.params["config_hash"] for run in runs} == {
        p.stem for p in (tmp_path / "results" / "tracked" / "rows").glob("*.parquet")}
    wrong = bench("sweep", str(spec), "--results", str(tmp_path / "results"), "--log-to", "tensorboardx")
    assert wrong.returncode == 2 and "allowed: mlflow, tensorboard" in wrong.stdout + wrong.stderr


@pytest.mark.slow
def test_a_sweep_logs_its_trials_to_tensorboard_beside_the_results(tmp_path):
    spec = write_spec(tmp_path, """\
        name: boarded
        model: lenet300
        dataset: synthetic
        train: {epochs: 1}
        seeds: [0]
        methods:
          dense: {}
        """)
    results = tmp_path / "results"
    done = bench("sweep", str(spec), "--results", str(results), "--num-cpus", "1", "--log-to", "tensorboard")
    assert done.returncode == 0, done.stdout + done.stderr
    events = list((results / "boarded" / "tensorboard").glob("*/events.out.tfevents.*"))
    assert len(events) == 1 and events[0].stat().st_size > 0  # kept after Tune's scratch folder is gone
    (rows,) = (results / "boarded" / "rows").glob("*.parquet")
    assert rows.stem in events[0].parent.name  # the trial is named by its config hash
