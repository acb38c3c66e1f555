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
- Readiness checks, not sleeps: it polls (suite/run/ray_probe.py) until the head
  answers and N nodes are alive, with a time limit ($BENCH_RAY_WAIT_S,
  default 300 s); a `ray start` step that ends early fails the job at once.
- Each node's CPU count comes from Slurm (--cpus-per-task if given, else the
  node's entry in SLURM_JOB_CPUS_PER_NODE), and every `srun` step names its
  --cpus-per-task (and GPUs): since Slurm 22.05 steps no longer inherit them.
- The head's address is the IP Ray itself advertises and its ports are free
  on that node (suite/run/ray_probe.py); Ray's usage statistics are off.
- Paths in it are absolute (the project, the spec unless it is a bundled
  sweep name, --data, --results), since the script changes directory first.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from suite.paths import PROJECT_DIR
from suite.run.submit import SubmitError, sweep_command

# The shell body: it only reads the variables the header above it sets.
BODY = r'''
for tool in python ray bench; do
  if [ ! -x "$BENCH_ENV/bin/$tool" ]; then
    echo "bench-slurm: error: $BENCH_ENV/bin/$tool is missing on $(hostname) or not executable by $(id -un):" \
         "the Python environment that wrote this script must exist at the same path on every node, usable by" \
         "the job's user; recreate it there, or rewrite the" \
         "script with \`bench submit --slurm\` run from the environment to use" >&2
    exit 2
  fi
done
export VIRTUAL_ENV="$BENCH_ENV" PATH="$BENCH_ENV/bin:$PATH" PYTHONUNBUFFERED=1 RAY_USAGE_STATS_ENABLED=0
cd "$BENCH_PROJECT"
# One token per job, for every process of the job (see suite/run/slurm.py).
export RAY_AUTH_MODE=token
RAY_AUTH_TOKEN="$(python -c 'import secrets; print(secrets.token_hex(32))')"
export RAY_AUTH_TOKEN

NODELIST="$(scontrol show hostnames "$SLURM_JOB_NODELIST")"
mapfile -t NODES <<< "$NODELIST"
# CPUs per node: --cpus-per-task (one task per node) or SLURM_JOB_CPUS_PER_NODE ("8(x2),4" -> 8 8 4).
CPUS=()
if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then
  for _ in "${NODES[@]}"; do CPUS+=("$SLURM_CPUS_PER_TASK"); done
else
  IFS=, read -ra PARTS <<< "${SLURM_JOB_CPUS_PER_NODE:-}"
  for part in "${PARTS[@]}"; do
    if [[ $part =~ ^([0-9]+)\(x([0-9]+)\)$ ]]; then
      for ((i = 0; i < BASH_REMATCH[2]; i++)); do CPUS+=("${BASH_REMATCH[1]}"); done
    else
      CPUS+=("$part")
    fi
  done
fi
if [ "${#CPUS[@]}" != "${#NODES[@]}" ]; then
  echo "bench-slurm: error: cannot tell each node's CPUs from" \
       "SLURM_JOB_CPUS_PER_NODE=${SLURM_JOB_CPUS_PER_NODE:-(unset)} for ${#NODES[@]} node(s);" \
       "pass --cpus-per-node to \`bench submit\`" >&2
  exit 2
fi
STEP_GPUS=()
if [ "$GPUS_PER_NODE" -gt 0 ]; then STEP_GPUS=("--gpus=$GPUS_PER_NODE"); fi

# The batch script runs on the first node: it is the head, and the driver runs here.
HEAD_LINE="$(python -m suite.run.ray_probe head)"
read -r HEAD_IP PORT DASHBOARD_PORT CLIENT_PORT AGENT_PORT <<< "$HEAD_LINE"
if [ "${#NODES[@]}" -gt 1 ] && [[ $HEAD_IP == 127.* ]]; then
  echo "bench-slurm: error: the head's IP is $HEAD_IP (loopback), which the other nodes cannot reach;" \
       "give the node a routable address" >&2
  exit 2
fi
export RAY_ADDRESS="$HEAD_IP:$PORT"
RAY_TMP="/tmp/bench-ray-$SLURM_JOB_ID"  # per job: short (socket paths) and never another user's /tmp/ray

STEP_PIDS=()
STEP_NODES=()
stop_ray() {
  local status=$? pid i running
  trap - EXIT
  trap '' INT TERM  # finish stopping Ray even if signalled again
  if [ "${#STEP_PIDS[@]}" -gt 0 ]; then
    # SIGTERM to the job's steps, not to this shell: `ray start --block` then stops every Ray process it
    # started. (Killing srun instead makes Slurm wait KillWait seconds and then SIGKILL the step.)
    scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null || kill -TERM "${STEP_PIDS[@]}" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
      running=0
      for pid in "${STEP_PIDS[@]}"; do if kill -0 "$pid" 2>/dev/null; then running=1; fi; done
      [ "$running" = 0 ] && break
      sleep 1
    done
    for pid in "${STEP_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  fi
  if [ "$status" = 0 ]; then  # Ray's logs stay on each node only when the job failed
    srun --nodes="${#NODES[@]}" --ntasks-per-node=1 --cpus-per-task=1 rm -rf "$RAY_TMP" || true
    echo "bench-slurm: Ray stopped; done"
  else
    echo "bench-slurm: Ray stopped; its logs are in $RAY_TMP on each node; exit status $status" >&2
  fi
  exit "$status"
}
trap stop_ray EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

start_ray() {  # NODE_INDEX RAY_START_ARGS...: one background srun step running `ray start --block`
  local index=$1
  shift
  srun --nodes=1 --ntasks=1 --cpus-per-task="${CPUS[$index]}" "${STEP_GPUS[@]}" -w "${NODES[$index]}" \
    ray start --num-cpus="${CPUS[$index]}" --num-gpus="$GPUS_PER_NODE" --temp-dir="$RAY_TMP" \
    --disable-usage-stats --block "$@" &
  STEP_PIDS+=($!)
  STEP_NODES+=("${NODES[$index]}")
}

wait_for_nodes() {  # N: poll until N Ray nodes are alive; fail on a dead `ray start` step or after RAY_WAIT_S
  local wanted=$1 deadline=$((SECONDS + RAY_WAIT_S)) i rc
  while true; do
    rc=0
    python -m suite.run.ray_probe nodes "$RAY_ADDRESS" "$wanted" 2>/dev/null || rc=$?
    [ "$rc" = 0 ] && return 0
    for i in "${!STEP_PIDS[@]}"; do
      if ! kill -0 "${STEP_PIDS[$i]}" 2>/dev/null; then
        rc=0
        wait "${STEP_PIDS[$i]}" || rc=$?
        echo "bench-slurm: error: \`ray start\` on ${STEP_NODES[$i]} ended (exit $rc) before the cluster was" \
             "ready; its output is above" >&2
        exit 1
      fi
    done
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "bench-slurm: error: ${RAY_WAIT_S}s passed and fewer than $wanted Ray node(s) are up at" \
           "$RAY_ADDRESS; its logs are in $RAY_TMP on each node (raise BENCH_RAY_WAIT_S if the nodes are slow)" >&2
      exit 1
    fi
    sleep 2
  done
}

echo "bench-slurm: Ray head on ${NODES[0]} at $RAY_ADDRESS; ${#NODES[@]} node(s), CPUs ${CPUS[*]}," \
     "$GPUS_PER_NODE GPU(s) each"
start_ray 0 --head --node-ip-address="$HEAD_IP" --port="$PORT" --dashboard-host=0.0.0.0 \
  --dashboard-port="$DASHBOARD_PORT" --ray-client-server-port="$CLIENT_PORT" --dashboard-agent-listen-port="$AGENT_PORT"
wait_for_nodes 1
for ((n = 1; n < ${#NODES[@]}; n++)); do start_ray "$n" --address="$RAY_ADDRESS"; done
wait_for_nodes "${#NODES[@]}"
echo "bench-slurm: all ${#NODES[@]} node(s) joined; dashboard http://$HEAD_IP:$DASHBOARD_PORT"

# The driver runs here, on the head node; `--address auto` reads RAY_ADDRESS.
SWEEP_STATUS=0
"${SWEEP[@]}" || SWEEP_STATUS=$?
exit "$SWEEP_STATUS"
'''


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
    header = ["#!/bin/bash"] + [f"#SBATCH {d}" for d in directives] + [
        "# Written by `bench submit --slurm`: a Ray cluster over the allocation, then the sweep on the first node.",
        "set -euo pipefail",
        f"BENCH_ENV={shlex.quote(str(env))}  # the Python environment that wrote this script",
        f"BENCH_PROJECT={shlex.quote(str(project))}",
        f"GPUS_PER_NODE={gpus_per_node}",
        f'RAY_WAIT_S="${{BENCH_RAY_WAIT_S:-{ray_wait_s}}}"  # how long the Ray nodes may take to come up',
        f"SWEEP=({shlex.join(sweep)})",
    ]
    return "\n".join(header) + BODY


def submit_slurm(script_path: Path, *, wait: bool = False) -> subprocess.CompletedProcess:
    """sbatch the script (with --wait: until the job ends, returning its exit status)."""
    sbatch = shutil.which("sbatch")
    if sbatch is None:
        raise SubmitError(f"sbatch not found on PATH: this machine cannot submit to Slurm. The script is at "
                          f"{script_path}; copy it to a Slurm login node and run `sbatch {script_path.name}` "
                          f"(--dry-run prints the script, writing and submitting nothing)")
    cmd = [sbatch, *(["--wait"] if wait else []), str(script_path)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 and not (wait and "Submitted batch job" in done.stdout):
        raise SubmitError(f"sbatch failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done
