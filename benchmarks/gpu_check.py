"""The GPU check: does the suite train on a CUDA GPU, share it between trials, and how fast? One command.

    .venv/bin/python benchmarks/gpu_check.py OUT                      # on a GPU machine (about 5-8 min on an H100)
    .venv/bin/python benchmarks/gpu_check.py OUT --device cpu --quick # its pieces on the CPU, a few steps each

Three steps, each a subprocess whose output is kept under OUT:

1. tests (tests.txt): a subset of the test suite that trains on the device (trials, the fused DWF step, the
   GPU share rule);
2. a smoke sweep with fractional GPUs (sweep_<dataset>.txt, store under OUT/store): LeNet-300-100, dense and
   DWF (D = 2, two λ) over two seeds, `--gpus-per-trial 0.25` (four trials share a GPU), on the `synthetic`
   dataset and, when ../shared/data holds it (or --data), Fashion-MNIST; trials per hour per GPU from its wall
   time (Ray's start-up included) and from the trials' own time;
3. the speed benchmark (speed.txt, benchmarks/speed.py on the device): DWF-over-dense step-time ratios.

It prints the DWF-over-dense ratios and trials per hour per GPU, and writes them to OUT/summary.json. Without
CUDA it says so and exits 2 (--device cpu runs the same pieces on the CPU, for trying the script itself).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_trial.py", "tests/test_dwf_step.py", "tests/test_gpu_share.py"]
SPEC = """\
    name: gpu_check_{dataset}
    model: lenet300
    dataset: {dataset}
    train: {{epochs: {epochs}, batch_size: 256, optimizer: sgd, momentum: 0.9, lr: 0.15, schedule: cosine}}
    seeds: [0, 1]
    resources: {{cpus_per_trial: 1, gpus_per_trial: auto}}
    methods:
      dense: {{}}
      dwf: {{depth: [2], lam: [1.0e-4, 1.0e-3], lr: 0.15}}
    """


def run(cmd: list[str], log: Path, timeout: float) -> tuple[int, str, float]:
    """(exit status, output, seconds) of cmd, its output also in log."""
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "COLUMNS": "200"}
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
        code, text = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code, text = 124, f"{exc.stdout or ''}{exc.stderr or ''}\n(gpu_check: stopped after {timeout:.0f}s)"
    log.write_text(f"$ {' '.join(cmd)}\n{text}")
    return code, text, time.perf_counter() - start


def step_tests(args, out: Path) -> dict:
    tests = TESTS[2:] if args.quick else TESTS
    code, text, seconds = run([sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider",
                               *tests], out / "tests.txt", 240)
    last = text.strip().splitlines()[-1] if text.strip() else ""
    return {"ok": code == 0, "result": last, "seconds": round(seconds, 1)}


def step_sweep(args, out: Path, dataset: str, gpus: int) -> dict:
    spec = out / f"gpu_check_{dataset}.yaml"
    spec.write_text(textwrap.dedent(SPEC.format(dataset=dataset, epochs=1 if args.quick else 3)))
    share = "0" if args.device == "cpu" else "0.25"
    cmd = [sys.executable, "-m", "suite.cli.main", "sweep", str(spec), "--results", str(out / "store"),
           "--gpus-per-trial", share]
    if args.data:
        cmd += ["--data", args.data]
    code, text, seconds = run(cmd, out / f"sweep_{dataset}.txt", 300)
    trials = len(list((out / "store" / f"gpu_check_{dataset}" / "rows").glob("*.parquet")))
    busy = re.search(r"trials busy (\d+)%", text)
    per = max(gpus, 1)  # on the CPU: per machine
    return {"ok": code == 0 and trials == 6, "trials": trials, "gpus_per_trial": float(share),
            "wall_s": round(seconds, 1),
            "trials_per_hour_per_gpu": round(trials / (seconds / 3600) / per, 1) if trials else 0.0,
            "slots_busy_percent": int(busy.group(1)) if busy else None, "ran_on": "cuda" if share != "0" else "cpu"}


def step_speed(args, out: Path, dataset: str) -> dict:
    cmd = [sys.executable, "benchmarks/speed.py", "--device", args.device, "--dataset", dataset]
    cmd += (["--rounds", "1", "--steps", "2", "--batch-sizes", "64", "--no-compiled"] if args.quick
            else ["--rounds", "5", "--steps", "25", "--batch-sizes", "256,1024"])
    if args.data:
        cmd += ["--data", args.data]
    code, text, seconds = run(cmd, out / "speed.txt", 300)
    ratios = {}
    for line in text.splitlines():  # "  256 dwf D=2 eager   0.123   1.50 1.4-1.6   0.130   1.45 ..."
        match = re.match(r"\s*(\d+) (dwf D=\d \w+)\s+[\d.]+\s+([\d.]+)\s+\S+\s+[\d.]+\s+([\d.]+)", line)
        if match:
            ratios[f"batch {match.group(1)} {match.group(2)}"] = {"cpu_ratio": float(match.group(3)),
                                                                   "wall_ratio": float(match.group(4))}
    return {"ok": code == 0 and bool(ratios), "dwf_over_dense": ratios, "seconds": round(seconds, 1)}


def datasets(args) -> list[str]:
    root = Path(args.data) if args.data else REPO.parent / "shared" / "data"
    if not args.quick and (root / "FashionMNIST").is_dir():
        args.data = str(root)
        return ["synthetic", "fmnist"]
    return ["synthetic"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the results (created; its earlier content is left alone)")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: try the pieces on the CPU")
    parser.add_argument("--quick", action="store_true", help="a few steps of each piece (for trying the script)")
    parser.add_argument("--data", default=None, help="data root holding FashionMNIST (default: ../shared/data)")
    args = parser.parse_args()
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU here (torch.cuda.is_available() is False, torch "
              f"{torch.__version__}, CUDA build {torch.version.cuda}): this check needs a GPU machine. "
              "`--device cpu --quick` runs its pieces on the CPU to try the script.", file=sys.stderr)
        return 2
    gpus = torch.cuda.device_count() if args.device == "cuda" else 0
    out = Path(args.out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name(0) if gpus else "cpu"
    summary = {"device": device, "gpus": gpus, "quick": args.quick, "tests": step_tests(args, out)}
    sets = datasets(args)
    summary["sweeps"] = {d: step_sweep(args, out, d, gpus) for d in sets}
    summary["speed"] = step_speed(args, out, sets[-1])
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print_summary(summary, out)
    ok = summary["tests"]["ok"] and summary["speed"]["ok"] and all(s["ok"] for s in summary["sweeps"].values())
    return 0 if ok else 1


def print_summary(summary: dict, out: Path) -> None:
    print(f"gpu_check on {summary['device']} ({summary['gpus']} GPU(s)){' --quick' if summary['quick'] else ''}")
    print(f"tests: {'ok' if summary['tests']['ok'] else 'FAILED'} ({summary['tests']['result']})")
    unit = "per GPU" if summary["gpus"] else "on this machine (CPU only; the JSON key says per_gpu)"
    for name, s in summary["sweeps"].items():
        print(f"sweep {name}: {'ok' if s['ok'] else 'FAILED'}, {s['trials']} trial(s) at {s['gpus_per_trial']:g} GPU "
              f"each in {s['wall_s']:.0f}s: {s['trials_per_hour_per_gpu']:.0f} trials per hour {unit} "
              f"(Ray start included; slots busy {s['slots_busy_percent']}%)")
    print(f"speed: {'ok' if summary['speed']['ok'] else 'FAILED'}; DWF-over-dense step time (median ratio, "
          f"CPU-time / wall):")
    for name, r in summary["speed"]["dwf_over_dense"].items():
        print(f"  {name:<28} {r['cpu_ratio']:.2f} / {r['wall_ratio']:.2f}")
    print(f"logs and summary.json in {out}")


if __name__ == "__main__":
    sys.exit(main())
