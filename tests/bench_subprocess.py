"""Running `bench` in a fresh interpreter: its result, or which heavy libraries it imported."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

BENCH = [sys.executable, "-c", "from suite.cli.main import main; main()"]
# Wide enough that no table or progress line the tests read wraps.
ENV = {**os.environ, "COLUMNS": "200"}


def bench(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 300):
    return subprocess.run([*BENCH, *args], capture_output=True, text=True, timeout=timeout,
                          env={**ENV, **(env or {})}, cwd=cwd)


def write_spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def bench_imports(*args: str, watched: tuple[str, ...] = ("ray", "optuna")) -> tuple[list[str], str]:
    """Run `bench ARGS` in a new Python process; return which of `watched` it imported, and its stdout.

    A dry run must not pay for (or depend on) Ray and Optuna: only a fresh
    process shows what the command itself imports."""
    code = textwrap.dedent(f"""\
        import json, sys
        from suite.cli.main import main
        sys.argv = ["bench", *{list(args)!r}]
        try:
            main()
        except SystemExit as exc:
            assert not exc.code, exc.code
        print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & {set(watched)!r})))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout
