"""Cluster submission: a sweep as a Ray job (Jobs API) or as a Slurm batch job.

Ray job (`submit_ray_job`): the project directory is uploaded as the job's
`runtime_env.working_dir` (without .venv, results, reports, .git and caches);
Ray puts it first on the PYTHONPATH of the entrypoint and of every worker, so
the cluster runs this checkout's code. The entrypoint is
`bench sweep SPEC --address auto --results RESULTS ...`: the driver runs on the
cluster and joins it. RESULTS must be reachable from every node: a shared
path or an object-store URI (s3://bucket/results; the store writes through
pyarrow filesystems). A spec file outside the project is shipped inside the
upload (a zip of the project plus the spec).

Slurm: suite/run/cluster/slurm.py writes a batch script that brings Ray up over the
allocation and runs `bench sweep SPEC --address auto` on its first node.

Both name the spec by one rule (`bundled_sweep`): a sweep of this project's
sweeps/ folder given by name stays a name; any other spec is the file the
submitter's argument resolves to here, relative to the submitter's working
directory, never the argument as typed (the cluster runs from the project
folder). The Ray job then names it relative to the uploaded project (or ships
it), the Slurm script by its absolute path on the shared filesystem.
"""

from __future__ import annotations

import fnmatch
import os
import shlex
import tempfile
import time
import zipfile
from pathlib import Path

from suite.paths import DEFAULT_REPORTS, DEFAULT_RESULTS, PROJECT_DIR

# Never uploaded: the virtualenv, generated results/reports, VCS and caches.
EXCLUDES = [".venv", DEFAULT_RESULTS, DEFAULT_REPORTS, ".git", "__pycache__", "*.pyc", ".pytest_cache", "*.egg-info",
            "build", ".mypy_cache", ".ruff_cache"]
SUBMITTED_DIR = ".submitted"
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


class SubmitError(RuntimeError):
    """Submission is impossible as asked; the message says why and what to do."""


def sweep_command(spec_arg: str, results: str, *, address: str = "auto", data: str | None = None,
                  extra: list[str] | None = None) -> list[str]:
    """`bench sweep ...` as an argument list."""
    cmd = ["bench", "sweep", spec_arg, "--address", address, "--results", results]
    if data:
        cmd += ["--data", data]
    return cmd + list(extra or [])


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _excluded(rel: str) -> bool:
    parts = Path(rel).parts
    return any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in EXCLUDES)


def _zip_project(spec_path: Path, project: Path) -> tuple[Path, str]:
    """A zip of the project (minus EXCLUDES) plus the spec at .submitted/NAME; (zip, spec path inside)."""
    handle, name = tempfile.mkstemp(prefix="bench-submit-", suffix=".zip")
    os.close(handle)
    inside = f"{SUBMITTED_DIR}/{spec_path.name}"
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, dirs, files in os.walk(project):
            rel_folder = os.path.relpath(folder, project)
            dirs[:] = [d for d in dirs if not _excluded(os.path.join(rel_folder, d))]
            for file in files:
                rel = os.path.normpath(os.path.join(rel_folder, file))
                if not _excluded(rel):
                    archive.write(os.path.join(folder, file), rel)
        archive.write(spec_path, inside)
    return Path(name), inside


def bundled_sweep(spec_arg: str, spec_path: Path, project: Path = PROJECT_DIR) -> str | None:
    """spec_arg when it names a sweep of project/sweeps by name (the cluster finds it the same way), else None."""
    if spec_arg == spec_path.stem and spec_path.resolve() == (project / "sweeps" / spec_path.name).resolve():
        return spec_arg
    return None


def spec_for_slurm(spec_arg: str, spec_path: Path, project: Path = PROJECT_DIR) -> str:
    """The spec as the Slurm script names it: a bundled sweep's name, else the file's absolute path."""
    return bundled_sweep(spec_arg, spec_path, project) or str(spec_path.expanduser().resolve())


def _spec_in_project(spec_arg: str, spec_path: Path, project: Path) -> str | None:
    """The spec argument for the cluster when the project directory already holds the spec, else None."""
    if bundled_sweep(spec_arg, spec_path, project):
        return spec_arg
    if _is_within(spec_path, project):
        return spec_path.resolve().relative_to(project.resolve()).as_posix()
    return None


def resolve_spec_for_upload(spec_arg: str, spec_path: Path, project: Path = PROJECT_DIR) -> tuple[str, Path | None]:
    """(spec argument for the cluster, zip to upload or None to upload the project directory)."""
    inside = _spec_in_project(spec_arg, spec_path, project)
    if inside is not None:
        return inside, None
    archive, inside = _zip_project(spec_path, project)
    return inside, archive


def ray_job_plan(spec_arg: str, spec_path: Path, results: str, *, data: str | None = None,
                 extra: list[str] | None = None, project: Path = PROJECT_DIR) -> tuple[str, str]:
    """(entrypoint, what is uploaded) of `submit_ray_job`, worked out without zipping or contacting anything."""
    inside = _spec_in_project(spec_arg, spec_path, project)
    upload = str(project) if inside is not None else f"{project}, with {spec_path} added at {SUBMITTED_DIR}/"
    cluster_spec = inside if inside is not None else f"{SUBMITTED_DIR}/{spec_path.name}"
    return shlex.join(sweep_command(cluster_spec, results, data=data, extra=extra)), upload


def auth_headers() -> dict[str, str]:
    """An Authorization header with the local Ray auth token, if there is one.

    Ray clusters started by recent Ray enable token authentication and keep the
    token in ~/.ray/auth_token (or $RAY_AUTH_TOKEN / $RAY_AUTH_TOKEN_PATH); the
    Jobs API then refuses requests without it. A cluster without token auth
    ignores the header.
    """
    token = os.environ.get("RAY_AUTH_TOKEN", "").strip()
    if not token:
        path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token").expanduser()
        if path.is_file():
            token = path.read_text().strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


PROBE_TIMEOUT_S = 10.0


def probe_dashboard(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """SubmitError, within `timeout` seconds, unless `address` answers GET /api/version as a Ray dashboard does
    (JSON naming a ray_version; 401/403 count as one that wants a token). Ray's own client would retry, or
    wait for an answer, without a bound."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{address.rstrip('/')}/api/version", headers=auth_headers())
    allowed = "the Ray dashboard's address, e.g. http://HEAD:8265 (`ray start --head --dashboard-host 0.0.0.0`)"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read(65536)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return
        raise SubmitError(f"--address {address!r} is not a Ray dashboard: GET /api/version answered HTTP "
                          f"{exc.code}; allowed: {allowed}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SubmitError(f"--address {address!r}: no Ray dashboard answered within {timeout:g}s ({reason}); "
                          f"allowed: {allowed}") from None
    try:
        ok = isinstance(json.loads(body), dict) and "ray_version" in json.loads(body)
    except ValueError:
        ok = False
    if not ok:
        raise SubmitError(f"--address {address!r} is not a Ray dashboard: GET /api/version answered "
                          f"{body[:60]!r}, not Ray's version record; allowed: {allowed}")


def jobs_client(address: str):
    """A JobSubmissionClient for `address` (SubmitError naming it if unreachable)."""
    from ray.job_submission import JobSubmissionClient

    if not address.startswith(("http://", "https://")):
        raise SubmitError(f"--address {address!r}: the Ray Jobs API address is the dashboard's, "
                          f"e.g. http://HEAD:8265")
    probe_dashboard(address)
    try:
        return JobSubmissionClient(address, headers=auth_headers())
    except Exception as exc:  # noqa: BLE001 - any failure to connect is reported the same way
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SubmitError(f"cannot reach the Ray Jobs API at {address!r}: {first}. Is the cluster's dashboard "
                          f"running and reachable (`ray start --head --dashboard-host 0.0.0.0` serves it on "
                          f"port 8265)? With token authentication, put the cluster's token in "
                          f"~/.ray/auth_token or $RAY_AUTH_TOKEN.") from None


# A head that has just started answers "No available agent to submit job"
# until its node's dashboard agent registers (seconds; longer on a busy node).
AGENT_WAIT_S = 120.0


def submit_with_retry(client, address: str, job: dict, wait_s: float = AGENT_WAIT_S) -> str:
    """Submit, retrying only the transient no-agent-yet answer, for at most wait_s seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return client.submit_job(**job)
        except Exception as exc:  # noqa: BLE001 - the client raises plain RuntimeError
            if "No available agent" in str(exc) and time.monotonic() < deadline:
                time.sleep(2.0)
                continue
            raise SubmitError(f"the Ray Jobs API at {address!r} refused the job: {exc}") from None


def submit_ray_job(address: str, spec_arg: str, spec_path: Path, results: str, *, data: str | None = None,
                   extra: list[str] | None = None, project: Path = PROJECT_DIR,
                   entrypoint_num_cpus: float = 0) -> tuple[str, str]:
    """Submit the sweep as a Ray job at the Jobs API `address`; returns (job id, entrypoint)."""
    client = jobs_client(address)
    cluster_spec, archive = resolve_spec_for_upload(spec_arg, spec_path, project)
    entrypoint = shlex.join(sweep_command(cluster_spec, results, data=data, extra=extra))
    working_dir = str(archive) if archive else str(project)
    runtime_env = {"working_dir": working_dir, "env_vars": {"PYTHONUNBUFFERED": "1"}}
    if archive is None:
        runtime_env["excludes"] = EXCLUDES
    try:
        job_id = submit_with_retry(client, address, dict(
            entrypoint=entrypoint, runtime_env=runtime_env, entrypoint_num_cpus=entrypoint_num_cpus,
            metadata={"bench_sweep": spec_path.stem}))
    finally:
        if archive is not None:
            archive.unlink(missing_ok=True)
    return job_id, entrypoint


def job_commands(address: str, job_id: str) -> list[str]:
    """The ray CLI lines to follow, query and stop a submitted job."""
    # The ray CLI sends the cluster's token only when told that token auth is on.
    ray_cli = "RAY_AUTH_MODE=token ray" if auth_headers() else "ray"
    return [f"follow it:  {ray_cli} job logs --follow --address {address} {job_id}",
            f"status:     {ray_cli} job status --address {address} {job_id}",
            f"stop it:    {ray_cli} job stop --address {address} {job_id}"]


def wait_for_job(address: str, job_id: str, timeout: float | None = None, poll: float = 2.0) -> tuple[str, str]:
    """Wait until the job ends; returns (status, logs)."""
    client = jobs_client(address)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        status = str(client.get_job_status(job_id))
        status = status.split(".")[-1]
        if status in TERMINAL:
            return status, client.get_job_logs(job_id)
        if deadline is not None and time.monotonic() > deadline:
            return status, client.get_job_logs(job_id)
        time.sleep(poll)
