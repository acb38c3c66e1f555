"""The Slurm batch script `bench submit NAME --slurm` writes, and sbatch.

The script starts a Ray head on the first node of the allocation and a Ray
worker on every other node (one `srun` step each), waits until all of them
have joined, runs `bench sweep SPEC --address auto` on the first node, and
stops every Ray process of the job on the way out, whatever the outcome.

What it does, and why (each point failed on a real Slurm 22.05 cluster before):
- It puts the Python environment that wrote it first on PATH (sys.prefix of
  the `bench submit` process), and stops with a clear error if that
  environment is missing on the node, instead of running whatever `ray` and
  `bench` happen to be on PATH.
- One random Ray token per job, exported as RAY_AUTH_MODE=token and
  RAY_AUTH_TOKEN before any step: `ray start` turns token authentication on by
  itself when ~/.ray/auth_token exists, and then every process of the job
  must present the same token.
- Readiness checks, not sleeps: it polls (suite/run/cluster/ray_probe.py) until the head
  answers and N nodes are alive, with a time limit ($BENCH_RAY_WAIT_S,
  default 300 s); a `ray start` step that ends early fails the job at once.
- Each node's CPU count comes from Slurm (--cpus-per-task if given, else the
  node's entry in SLURM_JOB_CPUS_PER_NODE), and every `srun` step names its
  --cpus-per-task (and GPUs): since Slurm 22.05 steps no longer inherit them.
- The head's address is the IP Ray itself advertises and its ports are free
  on that node (suite/run/cluster/ray_probe.py); Ray's usage statistics are off.
- Paths in it are absolute (the project, the spec unless it is a bundled
  sweep name, --data, --results), since the script changes directory first.
"""

from __future__ import annotations

import importlib.resources
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from suite.paths import PROJECT_DIR
from suite.run.cluster.submit import SubmitError, sweep_command

# The script, with @NAME@ marks that `slurm_script` fills in (every value shell-quoted or checked first).
TEMPLATE = "slurm_job.sh.tmpl"
MARK = re.compile(r"@([A-Z_]+)@")


def template() -> str:
    """The batch script's template (package data beside this module)."""
    return importlib.resources.files("suite.run.cluster").joinpath(TEMPLATE).read_text()


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with every @NAME@ mark replaced by values[NAME]; KeyError for a mark without a value, ValueError
    for a value without a mark (the template and the code that fills it must agree)."""
    unused = set(values) - set(MARK.findall(text))
    if unused:
        raise ValueError(f"{TEMPLATE} has no mark for {sorted(unused)}")
    return MARK.sub(lambda m: values[m.group(1)], text)


# What sbatch accepts as --time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS) and as --partition
# (names, comma-separated): anything else -- a newline above all -- would change the script.
TIME_RE = re.compile(r"(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)")
PARTITION_RE = re.compile(r"[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*")


def check_slurm_fields(time_limit: str, partition: str | None) -> None:
    """SubmitError naming the field unless --time and --partition are what sbatch takes."""
    if not TIME_RE.fullmatch(time_limit):
        raise SubmitError(f"--time {time_limit!r}: allowed: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS "
                          f"(e.g. 48:00:00 or 2-00:00:00), or UNLIMITED")
    if partition is not None and not PARTITION_RE.fullmatch(partition):
        raise SubmitError(f"--partition {partition!r}: allowed: partition names of letters, digits, '_', '.' "
                          f"and '-', comma-separated (e.g. gpu or gpu,gpu-long)")


def slurm_script(spec_arg: str, results: str, *, nodes: int, gpus_per_node: int, cpus_per_node: int | None = None,
                 time_limit: str = "48:00:00", partition: str | None = None, data: str | None = None,
                 extra: list[str] | None = None, project: Path = PROJECT_DIR, job_name: str | None = None,
                 env_prefix: str | None = None, ray_wait_s: int = 300) -> str:
    """The batch script; spec_arg, results and data must already be what the nodes can open (absolute)."""
    if nodes < 1:
        raise SubmitError(f"--nodes {nodes}: allowed: an integer >= 1")
    if gpus_per_node < 0:
        raise SubmitError(f"--gpus-per-node {gpus_per_node}: allowed: an integer >= 0")
    if cpus_per_node is not None and cpus_per_node < 1:
        raise SubmitError(f"--cpus-per-node {cpus_per_node}: allowed: an integer >= 1")
    check_slurm_fields(time_limit, partition)
    env = Path(env_prefix or sys.prefix)
    if not (env / "bin" / "ray").exists():
        raise SubmitError(f"this Python environment ({env}) has no `ray` in {env / 'bin'}; run `bench submit` "
                          f"from the environment the job is to use (where the project is installed)")
    name = job_name or f"bench-{Path(spec_arg).stem}"
    directives = [f"--job-name={name}", f"--nodes={nodes}", "--ntasks-per-node=1", "--exclusive",
                  f"--time={time_limit}", f"--output={name}-%j.out"]
    if gpus_per_node:
        directives.append(f"--gpus-per-node={gpus_per_node}")
    if cpus_per_node:
        directives.append(f"--cpus-per-task={cpus_per_node}")
    if partition:
        directives.append(f"--partition={partition}")
    sweep = sweep_command(spec_arg, results, address="auto", data=data, extra=extra)
    return fill(template(), {
        "DIRECTIVES": "\n".join(f"#SBATCH {d}" for d in directives), "BENCH_ENV": shlex.quote(str(env)),
        "BENCH_PROJECT": shlex.quote(str(project)), "GPUS_PER_NODE": str(gpus_per_node),
        "RAY_WAIT_S": str(int(ray_wait_s)), "SWEEP": shlex.join(sweep)})


def write_script(path: Path, text: str) -> None:
    """The script at `path`, executable (its folder made); SubmitError naming --script if it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)
    except OSError as exc:
        raise SubmitError(f"--script {path}: cannot be written ({exc}); allowed: a file path this user can "
                          f"write") from None


@dataclass(frozen=True)
class SlurmJob:
    """What sbatch answered."""

    answer: str  # its first line ("Submitted batch job 77"), or "submitted"
    job_id: str  # "77", or "<jobid>" where the answer names none
    status: int  # sbatch's exit status: with --wait, the job's

    def output(self, name: str) -> str:
        """The job's output file, as the script's --output names it (in the folder sbatch ran in)."""
        return f"{name}-{self.job_id}.out"


def submit_slurm(script_path: Path, *, wait: bool = False) -> SlurmJob:
    """sbatch the script (with --wait: until the job ends, its exit status then the job's)."""
    sbatch = shutil.which("sbatch")
    if sbatch is None:
        raise SubmitError(f"sbatch not found on PATH: this machine cannot submit to Slurm. The script is at "
                          f"{script_path}; copy it to a Slurm login node and run `sbatch {script_path.name}` "
                          f"(--dry-run prints the script, writing and submitting nothing)")
    cmd = [sbatch, *(["--wait"] if wait else []), str(script_path)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 and not (wait and "Submitted batch job" in done.stdout):
        raise SubmitError(f"sbatch failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    answer = done.stdout.strip().splitlines()[0] if done.stdout.strip() else "submitted"
    job_id = answer.split()[-1] if answer.split()[-1].isdigit() else "<jobid>"
    return SlurmJob(answer, job_id, done.returncode)
