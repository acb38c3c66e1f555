"""`bench submit --slurm`: the batch script it writes, and that script on a real one-node Slurm cluster.

The cheap tests read the script and run it under fake `srun`/`scontrol` (a Ray start that fails, a head that
never answers). The real test needs Slurm and munge (Debian's slurmctld, slurmd, slurm-client, munge, which
`.ci/run` installs as root) and root to start the daemons (`.ci/slurm_cluster.sh`); otherwise it skips and
says why. Its cluster is private (SLURM_CONF at its own file, its own munged, state folders and ports), so
it runs beside a machine's own Slurm and never needs or touches /etc/slurm. It submits with `sbatch --wait` from a
HOME that has a ~/.ray/auth_token, as anyone's does after
using Ray locally (that token is what made the old script die with InvalidAuthToken), and a bare PATH, so the
script must find its own environment.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from suite.results.store import done_hashes
from suite.run.driver import pin_data
from suite.sweep.expansion import expand
from suite.sweep.loading import load_spec

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CLUSTER = REPO / ".ci" / "slurm_cluster.sh"
# The machine's own Slurm and munge configuration: the private test cluster never writes them.
SYSTEM_FILES = ("/etc/slurm/slurm.conf", "/etc/munge/munge.key")
BENCH = [sys.executable, "-c", "from suite.cli.main import main; main()"]


def write_script(tmp_path: Path, *args: str, cwd: Path | None = None) -> str:
    """The script `bench submit --slurm --dry-run` prints (its stdout is the script alone)."""
    done = subprocess.run([*BENCH, "submit", *args, "--slurm", "--dry-run"],
                          capture_output=True, text=True, timeout=120, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


# --------------------------------------------------------------------------- the script, without Slurm


def test_script_paths_are_absolute_and_steps_name_their_resources(tmp_path):
    (tmp_path / "data").mkdir()
    text = write_script(tmp_path, "smoke.yaml", "--nodes", "3", "--gpus-per-node", "2", "--results", "res",
                        "--data", os.path.relpath(tmp_path / "data", REPO / "sweeps"), "--epochs", "2",
                        cwd=REPO / "sweeps")
    # Bug 5 of issue 9: a spec path relative to a folder inside the project, made absolute here.
    sweep = re.search(r"^SWEEP=\((.*)\)$", text, re.M).group(1)
    assert sweep == (f"bench sweep {REPO / 'sweeps' / 'smoke.yaml'} --address auto --results "
                     f"{REPO / 'sweeps' / 'res'} --data {tmp_path / 'data'} --epochs 2 --gpus-per-trial 0.25")
    assert f"BENCH_ENV={sys.prefix}" in text and f"BENCH_PROJECT={REPO}" in text
    assert "#SBATCH --nodes=3" in text and "#SBATCH --gpus-per-node=2" in text
    assert "export RAY_AUTH_MODE=token" in text and "export RAY_AUTH_TOKEN" in text
    assert "RAY_USAGE_STATS_ENABLED=0" in text
    assert 'srun --nodes=1 --ntasks=1 --cpus-per-task="${CPUS[$index]}" "${STEP_GPUS[@]}"' in text
    assert "hostname --ip-address" not in text and not re.search(r"^\s*sleep 1\d", text, re.M)
    assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0
    # A bundled sweep by name stays a name; the Ray-job path names the same file relative to the project.
    assert "SWEEP=(bench sweep smoke --address auto" in write_script(tmp_path, "smoke", "--results", "r")
    from suite.run.cluster.submit import resolve_spec_for_upload

    assert resolve_spec_for_upload("smoke.yaml", REPO / "sweeps" / "smoke.yaml") == ("sweeps/smoke.yaml", None)


def test_dry_run_prints_the_script_and_writes_nothing(tmp_path):
    # From a bare folder (the default script path is ./bench-NAME.sbatch) and with --script: no file either way.
    work = tmp_path / "work"
    work.mkdir()
    for extra in ((), ("--script", str(tmp_path / "elsewhere" / "job.sbatch"))):
        done = subprocess.run([*BENCH, "submit", "smoke", "--slurm", "--dry-run", "--results", str(tmp_path / "res"),
                               *extra], capture_output=True, text=True, timeout=120, cwd=work)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("#!/bin/bash") and "#SBATCH" in done.stdout
        assert "nothing written or submitted" in done.stderr
        assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == [Path("work")]
    assert subprocess.run(["bash", "-n"], input=done.stdout, text=True).returncode == 0


def test_submit_without_sbatch_says_where_the_script_is(tmp_path, monkeypatch):
    from suite.run.cluster.slurm import submit_slurm
    from suite.run.cluster.submit import SubmitError

    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    with pytest.raises(SubmitError, match="sbatch not found on PATH.*job.sbatch"):
        submit_slurm(tmp_path / "job.sbatch")


def test_submit_wait_reports_the_job_and_its_failure(tmp_path):
    """`bench submit --slurm --wait` is `sbatch --wait`: a failed job is exit status 1, naming its output file."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text(f'#!/bin/bash\necho "$@" > {tmp_path}/sbatch.args\necho "Submitted batch job 77"\n'
                                 "exit 3\n")
    (fake / "sbatch").chmod(0o755)
    done = subprocess.run([*BENCH, "submit", "smoke", "--slurm", "--wait", "--script", str(tmp_path / "job.sbatch"),
                           "--results", str(tmp_path / "res")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Submitted batch job 77" in done.stdout and "bench-smoke-77.out" in done.stdout
    assert "the Slurm job ended with exit status 3" in done.stderr
    assert (tmp_path / "sbatch.args").read_text().split() == ["--wait", str(tmp_path / "job.sbatch")]


def fake_slurm(tmp_path: Path, srun_body: str) -> dict:
    """PATH with fake scontrol (3 nodes), scancel and srun (logs its arguments, then runs srun_body)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "scontrol").write_text("#!/bin/bash\nprintf 'n1\\nn2\\nn3\\n'\n")
    (fake / "scancel").write_text("#!/bin/bash\nexit 1\n")  # the script falls back to signalling srun
    (fake / "srun").write_text(f'#!/bin/bash\necho "$@" >> {tmp_path}/srun.log\n{srun_body}\n')
    for tool in fake.iterdir():
        tool.chmod(0o755)
    return {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "SLURM_JOB_NODELIST": "n[1-3]",
            "SLURM_JOB_CPUS_PER_NODE": "4(x2),2", "SLURM_JOB_ID": "4242", "BENCH_RAY_WAIT_S": "6"}


def test_a_ray_start_step_that_fails_fails_the_job_at_once(tmp_path):
    script = tmp_path / "job.sh"
    script.write_text(write_script(tmp_path, "smoke", "--nodes", "3", "--results", str(tmp_path / "res")))
    env = fake_slurm(tmp_path, 'echo "ray: cannot start" >&2; exit 7')
    start = time.monotonic()
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "`ray start` on n1 ended (exit 7) before the cluster was ready" in done.stderr
    assert time.monotonic() - start < 60
    head = (tmp_path / "srun.log").read_text().splitlines()[0]
    assert head.startswith("--nodes=1 --ntasks=1 --cpus-per-task=4 -w n1 ray start --num-cpus=4 --num-gpus=0")
    assert "--head" in head and "--disable-usage-stats" in head
    assert not (tmp_path / "res").exists()


def test_a_head_that_never_answers_times_out_and_is_stopped(tmp_path):
    script = tmp_path / "job.sh"
    script.write_text(write_script(tmp_path, "smoke", "--nodes", "3", "--results", str(tmp_path / "res")))
    env = fake_slurm(tmp_path, f"echo $$ > {tmp_path}/head.pid; exec sleep 300")
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CPUs 4 4 2" in done.stdout  # SLURM_JOB_CPUS_PER_NODE, node by node
    assert "6s passed and fewer than 1 Ray node(s) are up" in done.stderr
    pid = int((tmp_path / "head.pid").read_text())
    assert not Path(f"/proc/{pid}").exists(), "the head's step outlived the job"


def test_a_missing_environment_is_an_error(tmp_path):
    text = write_script(tmp_path, "smoke", "--results", str(tmp_path / "res"))
    script = tmp_path / "job.sh"
    script.write_text(text.replace(f"BENCH_ENV={sys.prefix}", f"BENCH_ENV={tmp_path / 'gone'}"))
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{tmp_path / 'gone'}/bin/python is missing on" in done.stderr
    from suite.run.cluster.slurm import slurm_script
    from suite.run.cluster.submit import SubmitError

    with pytest.raises(SubmitError, match=r"has no `ray` in .*gone/bin; run `bench submit` from the environment"):
        slurm_script("smoke", "/r", nodes=1, gpus_per_node=0, env_prefix=str(tmp_path / "gone"))


# --------------------------------------------------------------------------- a real Slurm cluster


def _slurm_missing() -> str | None:
    if os.geteuid() != 0:
        return "starting the Slurm daemons needs root (.ci/run runs as root)"
    path = f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/bin"
    missing = [tool for tool in ("slurmctld", "slurmd", "sbatch", "munged") if not shutil.which(tool, path=path)]
    if missing:
        return f"Slurm not installed ({', '.join(missing)} missing; .ci/run installs it as root with apt-get)"
    if not (SHARED_DATA / "FashionMNIST").is_dir():
        return "the smoke sweep needs Fashion-MNIST in ../shared/data"
    return None


@pytest.fixture
def slurm_cluster(tmp_path_factory):
    """A private cluster (.ci/slurm_cluster.sh): its own slurm.conf, munge key and socket, state, spool, logs
    and free ports under a temp folder, found through SLURM_CONF; /etc/slurm and /etc/munge are not touched.
    Yields the environment variables its clients need."""
    reason = _slurm_missing()
    if reason:
        pytest.skip(reason)
    # Short: munge's socket path must fit a Unix socket name (108 bytes).
    folder = Path(tempfile.mkdtemp(prefix="bench-slurm-"))
    env = {**os.environ, "SLURM_CI_DIR": str(folder)}
    system = [(p, p.read_bytes() if p.is_file() else None) for p in map(Path, SYSTEM_FILES)]
    started = subprocess.run([str(CLUSTER), "start"], capture_output=True, text=True, timeout=180, env=env)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"export SLURM_CONF={folder}/slurm.conf" in started.stdout
        yield {"SLURM_CONF": str(folder / "slurm.conf")}
    finally:
        subprocess.run([str(CLUSTER), "stop"], capture_output=True, timeout=120, env=env)
        shutil.rmtree(folder, ignore_errors=True)
    assert [(p, p.read_bytes() if p.is_file() else None) for p, _ in system] == system, "a system file changed"


def job_processes(job_id: str, conf: str) -> list[str]:
    """Processes whose environment says they belong to Slurm job job_id of the cluster configured by `conf`
    (another private test cluster on this machine, or the machine's own, numbers its jobs from 1 too)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            environ = (proc / "environ").read_bytes().split(b"\0") if proc.name.isdigit() else []
            if f"SLURM_JOB_ID={job_id}".encode() in environ and f"SLURM_CONF={conf}".encode() in environ:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ")[:120]
                found.append(f"{proc.name}: {command!r}")
        except OSError:
            pass
    return found


def sbatch_wait(script: Path, home: Path, cluster: dict) -> tuple[subprocess.CompletedProcess, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **cluster}
    done = subprocess.run(["sbatch", "--wait", str(script)], capture_output=True, text=True, timeout=600,
                          cwd=script.parent, env=env)
    job_id = re.search(r"Submitted batch job (\d+)", done.stdout).group(1)
    output = (script.parent / f"bench-smoke-{job_id}.out").read_text()
    deadline = time.monotonic() + 15  # the last processes may take a moment to be reaped
    conf = cluster["SLURM_CONF"]
    while job_processes(job_id, conf) and time.monotonic() < deadline:
        time.sleep(1)
    assert not job_processes(job_id, conf), f"processes of job {job_id} survived it: {job_processes(job_id, conf)}"
    if done.returncode == 0:
        assert not Path(f"/tmp/bench-ray-{job_id}").exists(), "Ray's temporary folder outlived a finished job"
    return done, output


@pytest.mark.slow
def test_smoke_sweep_through_sbatch_on_a_one_node_cluster(tmp_path, slurm_cluster):
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    (home / ".ray" / "auth_token").write_text("0" * 64 + "\n")  # someone who has used Ray locally
    results = tmp_path / "results"
    script = tmp_path / "job.sbatch"
    script.write_text(write_script(tmp_path, "smoke", "--results", str(results), "--data", str(SHARED_DATA)))

    done, output = sbatch_wait(script, home, slurm_cluster)
    assert done.returncode == 0, output
    # The sweep pins every trial to the data it found (suite/run/driver.py), and the hash names that data.
    expected = {c.config_hash for c in expand(pin_data(load_spec("smoke"), str(SHARED_DATA), download=False))}
    assert done_hashes(results, "smoke") == expected
    rows = {p: p.stat().st_mtime_ns for p in (results / "smoke" / "rows").iterdir()}

    again, output = sbatch_wait(script, home, slurm_cluster)
    assert again.returncode == 0, output
    assert "already in the store" in output and "ran now" not in output
    assert {p: p.stat().st_mtime_ns for p in (results / "smoke" / "rows").iterdir()} == rows
