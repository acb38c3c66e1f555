"""Bad inputs get a named error before any work starts (no Ray; each case here failed on the old code)."""

from __future__ import annotations

import subprocess
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench_subprocess import bench as run_bench
from suite.config import ConfigError, TrialConfig
from suite.sweep.loading import load_spec
from suite.sweep.spec import SpecError

RUN = ["run", "--model", "lenet300", "--dataset", "synthetic", "--method", "dense", "--epochs", "1"]


def bench(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return run_bench(*args, env={"CUDA_VISIBLE_DEVICES": ""}, cwd=cwd, timeout=timeout)


def cli(*args: str) -> SimpleNamespace:
    """The command in this process (typer's runner): the checks below need no fresh interpreter."""
    from typer.testing import CliRunner

    from suite.cli.main import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def spec(tmp_path: Path, body: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


@pytest.mark.parametrize("args, named", [
    (["--lr", "inf"], "'lr' = inf"),
    (["--lr", "nan"], "'lr' = nan"),
    (["--method", "gmp", "--compression", "inf"], "'compressions' = (inf,)"),
    (["--device", "nonsense"], "--device 'nonsense' is not a device"),
    (["--device", "cuda"], "--device 'cuda': this machine has no CUDA GPU"),
    (["--sweep", ".."], "--sweep '..' is not allowed"),
    (["--sweep", "/abs/x"], "--sweep '/abs/x' is not allowed"),
    (["--sweep", "a/b"], "--sweep 'a/b' is not allowed"),
])
def test_bench_run_rejects_bad_flags_before_training(tmp_path, args, named, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a CPU-only machine, also on a GPU host
    proc = cli(*RUN, *args, "--results", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert named in proc.stderr and "Traceback" not in proc.stderr
    assert "epoch" not in proc.stderr  # nothing trained
    assert not (tmp_path / "r").exists()  # rejected before the store was even probed


def test_bench_run_probes_the_results_destination_before_training(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for results in (afile, afile / "below"):
        proc = cli(*RUN, "--results", str(results))
        assert proc.returncode == 2 and str(afile) in proc.stderr, proc.stderr
        assert "epoch" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("eps", ["-5", "nan", "inf", "0"])
def test_bench_report_rejects_bad_eps(tmp_path, eps):
    proc = cli("report", "s", "--eps", eps, "--results", str(tmp_path))
    assert proc.returncode == 2 and f"--eps {eps}" in proc.stderr and "allowed" in proc.stderr


def test_bench_report_rejects_unsafe_names(tmp_path):
    for name in ("..", ".", "/abs"):
        proc = cli("report", name, "--results", str(tmp_path))
        assert proc.returncode == 2 and "is not allowed" in proc.stderr, proc.stderr


def test_results_uri_stays_a_uri_for_run_and_report(tmp_path):
    """Bug 1 of issue 9: --results typed Path turned file:///x (or s3://b/r) into file:/x."""
    uri = f"file://{tmp_path}/store"
    proc = bench(*RUN, "--sweep", "u", "--results", uri, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "store" / "u" / "rows").glob("*.parquet"))) == 1
    proc = bench("report", "u", "--results", uri, "--out", str(tmp_path / "rep"), "--table", "compression",
                 timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "rep" / "index.md").is_file()


def test_dry_run_creates_nothing(tmp_path):
    """Bug 4 of issue 9: --dry-run created the results folder."""
    proc = cli("sweep", "smoke", "--dry-run", "--results", str(tmp_path / "new" / "results"))
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b"])
def test_spec_names_must_be_one_safe_path_component(tmp_path, name):
    path = spec(tmp_path, f"""\
        name: "{name}"
        model: lenet300
        dataset: synthetic
        methods: {{dense: {{}}}}
        """)
    with pytest.raises(SpecError, match="key 'name'.*not allowed"):
        load_spec(path)


def test_grid_size_is_counted_before_expansion(tmp_path):
    huge_axis = spec(tmp_path, """\
        model: lenet300
        dataset: synthetic
        methods:
          l1: {lam: {logspace: [1.0e-6, 1.0, 100000000]}}
        """, "axis.yaml")
    million = spec(tmp_path, """\
        model: lenet300
        dataset: synthetic
        seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        methods:
          snip: {compression: {logspace: [10, 1.0e5, 1000]}}
          dwf: {depth: [2, 3, 4, 5], lam: {logspace: [1.0e-6, 1.0, 10000]}, lr: 0.1}
        """, "million.yaml")
    for path, count in ((huge_axis, "100,000,000 values"), (million, "410,000 trials")):
        start = time.perf_counter()
        with pytest.raises(SpecError, match=f"{count} exceed the limit of 20,000.*--max-trials"):
            load_spec(path)
        assert time.perf_counter() - start < 5
    small = spec(tmp_path, """\
        model: lenet300
        dataset: synthetic
        seeds: [0, 1]
        methods: {l1: {lam: {logspace: [1.0e-6, 1.0, 30]}}}
        """, "small.yaml")
    with pytest.raises(SpecError, match="60 trials exceed the limit of 50"):
        load_spec(small, max_trials=50)
    assert len(load_spec(small, max_trials=60).seeds) == 2
    proc = cli("sweep", str(small), "--dry-run", "--max-trials", "50", "--results", str(tmp_path / "r"))
    assert proc.returncode == 2 and "--max-trials" in proc.stderr
    # bench submit checks it before anything is written, and passes it on to the cluster's bench sweep.
    script = tmp_path / "job.sbatch"
    proc = cli("submit", str(small), "--slurm", "--dry-run", "--script", str(script), "--max-trials", "50")
    assert proc.returncode == 2 and "60 trials exceed the limit of 50" in proc.stderr and not script.exists()
    proc = cli("submit", str(small), "--slurm", "--dry-run", "--script", str(script), "--max-trials", "60")
    assert proc.returncode == 0, proc.stderr
    assert "--max-trials 60" in proc.stdout and not script.exists()  # a dry run prints the script, writes nothing


def test_per_depth_lr_for_a_depth_not_in_the_grid_is_rejected(tmp_path):
    path = spec(tmp_path, """\
        model: lenet300
        dataset: synthetic
        methods:
          dwf: {depth: [2], lam: [1.0e-4], lr: {2: 0.1, 5: 0.3}}
        """)
    with pytest.raises(SpecError, match=r"methods.dwf.lr.*depth\(s\) \[5\] not in the grid"):
        load_spec(path)


@pytest.mark.parametrize("overrides, field", [
    ({"lr": True}, "lr"), ({"lam": True}, "lam"), ({"lr": float("inf")}, "lr"), ({"lam": float("nan")}, "lam"),
    ({"omega_min": "x"}, "omega_min"), ({"compressions": None}, "compressions"),
    ({"compressions": [float("inf")]}, "compressions"), ({"pilot_budget": float("inf")}, "pilot_budget"),
    ({"momentum": float("nan")}, "momentum"), ({"depth": True}, "depth"),
])
def test_config_rejects_non_numbers_with_a_config_error(overrides, field):
    base = {"model": "lenet300", "dataset": "synthetic", "method": "dwf", "depth": 2, "lam": 1e-4}
    with pytest.raises(ConfigError, match=f"'{field}'"):
        TrialConfig(**{**base, **overrides})


def test_dataset_downloads_take_a_lock(tmp_path, monkeypatch):
    """Bug 7 of issue 9: workers of one node downloading one dataset at once."""
    import torch
    import torchvision.datasets as tvd

    from suite.core.data.registry import clear_cache, load_dataset

    state = {"inside": 0, "most": 0, "downloads": 0}
    guard = threading.Lock()

    class Fake:
        """KMNIST as torchvision behaves: missing files raise; download=True fetches only what is missing."""

        classes = list(range(10))

        def __init__(self, root, train, download):
            marker = Path(root) / "fake.done"
            self.data, self.targets = torch.zeros(4, 28, 28, dtype=torch.uint8), [0, 1, 2, 3]
            if not download:
                if not marker.exists():
                    raise RuntimeError("Dataset not found")
                return
            with guard:
                state["inside"] += 1
                state["most"] = max(state["most"], state["inside"])
            try:
                if not marker.exists():
                    time.sleep(0.3)
                    state["downloads"] += 1
                    marker.write_text("x")
            finally:
                with guard:
                    state["inside"] -= 1

    monkeypatch.setattr(tvd, "KMNIST", Fake)
    clear_cache()
    try:
        threads = [threading.Thread(target=load_dataset, args=("kmnist", tmp_path)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        clear_cache()
    assert state == {"inside": 0, "most": 1, "downloads": 1}


# An unknown scheme (ArrowInvalid), and a known one that cannot connect here (OSError: hdfs:// needs a
# JVM and a namenode; port 1 refuses at once where there is one).
@pytest.mark.parametrize("uri", ["nosuch://bucket/store", "hdfs://localhost:1/store"])
@pytest.mark.parametrize("command", [("sweep", "smoke", "--dry-run"), ("report", "smoke"), tuple(RUN)])
def test_a_results_uri_no_filesystem_opens_is_a_named_error(command, uri):
    """It was a pyarrow traceback for dry runs and reports."""
    proc = cli(*command, "--results", uri)
    assert proc.returncode == 2, proc.stdout
    text = " ".join((proc.stdout + proc.stderr).split())  # the console wraps long lines
    assert f"'{uri}' cannot be opened" in text and "allowed: a local folder" in text
    assert "Traceback" not in text
