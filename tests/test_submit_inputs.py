"""Issue 28: `bench submit` at something that is not a Ray dashboard fails with a named error in bounded time
and honours SIGTERM; --time and --partition are checked before they reach the batch script."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from bench_subprocess import BENCH, ENV, bench


@pytest.mark.parametrize("flag, value, allowed", [
    ("--partition", "gpu\nrm -rf ~", "--partition 'gpu\\nrm -rf ~': allowed: partition names"),
    ("--partition", "gpu; id", "allowed: partition names"),
    ("--time", "forever", "--time 'forever': allowed: minutes, MM:SS, HH:MM:SS"),
    ("--time", "1:00\n#SBATCH --uid=0", "allowed: minutes"),
])
def test_slurm_fields_are_checked_before_the_script_is_written(tmp_path, flag, value, allowed):
    done = bench("submit", "smoke", "--slurm", "--dry-run", flag, value, "--results", str(tmp_path), timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert allowed in " ".join(done.stderr.split()) and "#SBATCH" not in done.stdout
    good = bench("submit", "smoke", "--slurm", "--dry-run", "--time", "2-00:00:00", "--partition", "gpu,gpu-long",
                 "--results", str(tmp_path), timeout=120)
    assert good.returncode == 0 and "#SBATCH --partition=gpu,gpu-long" in good.stdout


def test_submit_to_a_plain_http_server_is_a_named_error(tmp_path):
    server = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = int(server.stdout.readline().split("port ")[1].split()[0])
        start = time.monotonic()
        done = bench("submit", "smoke", "--address", f"http://127.0.0.1:{port}", "--results", str(tmp_path / "r"),
                     timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert done.returncode == 2, done.stdout + done.stderr
    text = " ".join(done.stderr.split())
    assert "is not a Ray dashboard: GET /api/version answered HTTP 404" in text and "Traceback" not in text
    assert time.monotonic() - start < 90
    assert not list(tmp_path.rglob("driver.json"))


def silent_server() -> tuple[socket.socket, list]:
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    accepted: list = []

    def serve() -> None:
        while True:
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                return

    threading.Thread(target=serve, daemon=True).start()
    return sock, accepted


def test_a_server_that_never_answers_times_out_and_sigterm_is_honoured(tmp_path):
    sock, accepted = silent_server()
    address = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        start = time.monotonic()
        done = bench("submit", "smoke", "--address", address, "--results", str(tmp_path / "r"), timeout=120)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "no Ray dashboard answered within 10s" in " ".join(done.stderr.split())
        assert time.monotonic() - start < 90
        proc = subprocess.Popen([*BENCH, "submit", "smoke", "--address", address, "--results", str(tmp_path / "r")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        count = len(accepted)
        deadline = time.monotonic() + 60
        while len(accepted) == count and time.monotonic() < deadline:  # until it waits on the server
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        sock.close()
    assert proc.returncode == 130, out + err
    assert "interrupted (Ctrl-C or SIGTERM) while submitting" in " ".join(err.split()) and "Traceback" not in err
    assert not list(tmp_path.rglob("driver.json"))
