"""Reaching a Ray cluster: an unreachable address, `bench submit` to a loopback cluster, retries without an agent.

Clear errors for an address nobody answers at; submission retried only while the head has no agent
(Slurm: tests/test_slurm.py). The submit test starts a real (local) Ray head: it is marked slow but runs in CI.
Every spec here uses the synthetic dataset, LeNet-300-100 and 1 epoch.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from suite.results.store import done_hashes, load_table
from suite.run.driver import pin_data
from suite.sweep.expansion import expand
from suite.sweep.loading import load_spec
from bench_subprocess import BENCH, bench, write_spec

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- without Ray


def test_unreachable_address_gives_a_clear_error(tmp_path):
    spec = write_spec(tmp_path, """\
        model: lenet300
        dataset: synthetic
        methods: {dense: {}}
        """)
    port = free_port()
    start = time.monotonic()
    done = bench("sweep", str(spec), "--results", str(tmp_path / "res"), "--address", f"127.0.0.1:{port}")
    assert done.returncode == 2, done.stderr
    assert f"cannot reach a Ray cluster at '127.0.0.1:{port}'" in done.stderr
    assert time.monotonic() - start < 60
    from suite.run.outcome import TuneSetupError
    from suite.run.ray.session import check_address

    with pytest.raises(TuneSetupError, match="bench submit"):
        check_address(f"http://127.0.0.1:{port}")
    from suite.run.cluster.submit import SubmitError, jobs_client

    with pytest.raises(SubmitError, match=rf"--address 'http://127.0.0.1:{port}': no Ray dashboard answered"):
        jobs_client(f"http://127.0.0.1:{port}")


def test_ray_job_dry_run_sends_and_writes_nothing(tmp_path):
    """`bench submit --address ... --dry-run` prints the entrypoint; it neither contacts the address (nobody
    answers there), nor zips a spec from outside the project, nor imports Ray."""
    spec = write_spec(tmp_path, """\
        model: lenet300
        dataset: synthetic
        methods: {dense: {}}
        """)
    scratch = tmp_path / "tmp"  # the command's own temporary folder: a submit running beside it zips elsewhere
    scratch.mkdir()
    before = sorted(p for p in tmp_path.rglob("*") if scratch not in p.parents)
    code = ("import sys; from suite.cli.main import main; sys.argv = ['bench', *sys.argv[1:]]\n"
            "try:\n    main()\nfinally:\n    print('ray imported' if 'ray' in sys.modules else 'no ray')")
    done = subprocess.run([sys.executable, "-c", code, "submit", str(spec), "--address",
                           f"http://127.0.0.1:{free_port()}", "--results", str(tmp_path / "res"), "--epochs", "1",
                           "--dry-run"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "COLUMNS": "200", "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    assert "nothing sent (--dry-run)" in done.stdout
    assert f"entrypoint: bench sweep .submitted/{spec.name} --address auto --results {tmp_path / 'res'}" \
           " --epochs 1" in done.stdout
    assert done.stdout.strip().endswith("no ray")
    assert sorted(p for p in tmp_path.rglob("*") if scratch not in p.parents) == before
    assert not list(scratch.glob("bench-submit-*.zip"))  # (torch may leave its compiler's cache there)


# --------------------------------------------------------------------------- with Ray


@pytest.mark.slow
def test_submit_to_a_ray_cluster_on_loopback(tmp_path):
    """`ray start --head` on free ports, `bench submit --address http://127.0.0.1:PORT`, rows appear."""
    try:
        import aiohttp  # noqa: F401  (the dashboard, which serves the Jobs API)
    except ImportError:
        pytest.fail("the Ray Jobs API needs ray[default]: install the project with ray[default,tune]")
    spec = write_spec(tmp_path, """\
        name: cluster
        model: lenet300
        dataset: synthetic
        train: {epochs: 1}
        seeds: [0]
        methods:
          dense: {}
          gmp: {compression: [10, 100], finetune_epochs: 1}
        """)
    root = tmp_path / "res"
    gcs_port, dashboard_port = free_port(), free_port()
    temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", "--port", str(gcs_port), "--num-cpus", "2",
         "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard_port), "--temp-dir", temp_dir,
         # Free ports for the agents too: Ray's fixed defaults (52365, ...) clash with any other Ray
         # instance on the machine, and the Jobs API then answers "No available agent" forever.
         "--dashboard-agent-listen-port", str(free_port()), "--dashboard-agent-grpc-port", str(free_port()),
         "--runtime-env-agent-port", str(free_port()), "--metrics-export-port", str(free_port()),
         "--disable-usage-stats", "--block"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    address = f"http://127.0.0.1:{dashboard_port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert head.poll() is None, "ray start --head exited"
            try:
                urllib.request.urlopen(f"{address}/api/version", timeout=2)
                break
            except urllib.error.HTTPError:  # it answers (401 with token authentication): it is up
                break
            except OSError:
                assert time.monotonic() < deadline, "the Ray head did not come up"
                time.sleep(1)
        done = subprocess.run([*BENCH, "submit", str(spec), "--address", address, "--results", str(root), "--wait"],
                              capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "raysubmit_" in done.stdout and "ray job logs --follow" in done.stdout
        assert "SUCCEEDED" in done.stdout
        expected = {c.config_hash for c in expand(pin_data(load_spec(spec), None, download=False))}
        assert done_hashes(root, "cluster") == expected
        assert len(load_table(root, "cluster")) == 1 + 2
    finally:
        head.send_signal(signal.SIGTERM)  # `ray start --block` shuts its own processes down
        try:
            head.wait(timeout=45)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        subprocess.run(["rm", "-rf", temp_dir])


def test_submit_retries_only_while_the_head_has_no_agent(monkeypatch):
    from suite.run.cluster import submit

    monkeypatch.setattr(submit.time, "sleep", lambda s: None)

    class Client:
        def __init__(self, errors):
            self.errors, self.calls = list(errors), 0

        def submit_job(self, **job):
            self.calls += 1
            if self.errors:
                raise RuntimeError(self.errors.pop(0))
            return "raysubmit_1"

    busy = Client(["Request failed with status code 500: No available agent to submit job"] * 2)
    assert submit.submit_with_retry(busy, "http://h:8265", {}) == "raysubmit_1" and busy.calls == 3
    broken = Client(["Request failed with status code 400: bad runtime_env"])
    with pytest.raises(submit.SubmitError, match="refused the job: .*bad runtime_env"):
        submit.submit_with_retry(broken, "http://h:8265", {})
    assert broken.calls == 1
    never = Client(["No available agent to submit job"] * 100)
    with pytest.raises(submit.SubmitError, match="No available agent"):
        submit.submit_with_retry(never, "http://h:8265", {}, wait_s=0.0)
