"""Issue 28: a cluster's GPUs are used. A trial's GPU share comes from the allocation (the packing rule of
suite/run/cluster/gpu_share.py) unless --gpus-per-trial or the spec says otherwise; `bench submit --slurm
--gpus-per-node G` passes a nonzero share to its sweep; a sweep that would leave visible GPUs idle says so."""

import re

import pytest

from bench_subprocess import bench, write_spec
from suite.run.cluster.gpu_share import packed_share, resolve_share, share_for_allocation
from suite.sweep.loading import load_spec
from suite.sweep.options import SweepOptions
from suite.sweep.spec import SpecError


def sweep_line(script: str) -> str:
    return re.search(r"^SWEEP=\((.*)\)$", script, re.M).group(1)


def test_the_packing_rule_puts_four_lenet_trials_on_a_gpu():
    assert packed_share(266_610) == 0.25 and packed_share(11_173_962) == 0.5 and packed_share(10 ** 9) == 1.0
    assert resolve_share(None, 4, "lenet300", "fmnist") == (0.25, None)
    assert resolve_share(None, 8, "resnet18", "cifar10") == (0.5, None)
    assert resolve_share(None, 0, "lenet300", "fmnist") == (0.0, None)  # no GPU: the CPU, silently
    assert resolve_share(0.5, 4, "lenet300", "fmnist") == (0.5, None)  # the flag or the spec wins
    share, warning = resolve_share(0.0, 4, "lenet300", "fmnist")
    assert share == 0.0 and "4 GPU(s) are visible to Ray but gpus_per_trial is 0" in warning
    assert "--gpus-per-trial 0.25" in warning


def test_shipped_lenet_specs_leave_the_share_to_the_allocation():
    spec = load_spec("lenet300_fmnist")
    assert spec.gpus_per_trial is None  # `auto`: the shipped spec no longer pins every trial to the CPU
    assert share_for_allocation(spec.gpus_per_trial, 4, spec.model, spec.dataset) == (
        ["--gpus-per-trial", "0.25"], None)
    assert SweepOptions(gpus_per_trial=0.5).apply(spec).gpus_per_trial == 0.5
    for bad in (float("nan"), float("inf"), 1.5, -0.25):
        with pytest.raises(SpecError, match="--gpus-per-trial .*allowed: auto .* a number in \\[0, 1\\]"):
            SweepOptions(gpus_per_trial=bad).apply(spec)


def test_a_spec_share_out_of_range_is_named(tmp_path):
    path = write_spec(tmp_path, """\
        name: g
        model: lenet300
        dataset: synthetic
        resources: {gpus_per_trial: 1.5}
        methods: {dense: {}}
        """)
    with pytest.raises(SpecError, match="resources.gpus_per_trial.*1.5.*auto, a number in \\[0, 1\\]"):
        load_spec(str(path))


def test_submit_slurm_with_gpus_asks_the_sweep_for_a_gpu_share(tmp_path):
    done = bench("submit", "lenet300_fmnist", "--slurm", "--gpus-per-node", "4", "--dry-run", "--results",
                 str(tmp_path / "r"), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "#SBATCH --gpus-per-node=4" in done.stdout
    assert sweep_line(done.stdout).endswith("--gpus-per-trial 0.25")
    given = bench("submit", "lenet300_fmnist", "--slurm", "--gpus-per-node", "4", "--gpus-per-trial", "0.5",
                  "--dry-run", "--results", str(tmp_path / "r"), timeout=120)
    assert given.returncode == 0, given.stderr
    assert sweep_line(given.stdout).count("--gpus-per-trial") == 1 and "--gpus-per-trial 0.5" in given.stdout
    cpu = bench("submit", "lenet300_fmnist", "--slurm", "--dry-run", "--results", str(tmp_path / "r"), timeout=120)
    assert cpu.returncode == 0 and "--gpus-per-trial" not in sweep_line(cpu.stdout)
    idle = bench("submit", "lenet300_fmnist", "--slurm", "--gpus-per-node", "2", "--gpus-per-trial", "0",
                 "--dry-run", "--results", str(tmp_path / "r"), timeout=120)
    assert idle.returncode == 0 and "2 GPU(s) are visible to Ray but gpus_per_trial is 0" in idle.stderr


@pytest.mark.slow
def test_a_ray_session_with_gpus_gives_each_trial_a_share_or_warns():
    import dataclasses

    import ray

    from suite.run.outcome import RunOptions
    from suite.run.ray.session import ray_session

    spec = load_spec("smoke")
    ray.init(address="local", num_cpus=1, num_gpus=4, include_dashboard=False)  # GPUs as Ray sees them
    try:
        with ray_session(RunOptions(), spec) as session:
            assert session.gpus_per_trial == 0.25 and session.warning is None
            assert session.concurrency == 1  # one CPU: the CPUs still bound it
        with ray_session(RunOptions(), dataclasses.replace(spec, gpus_per_trial=0.0)) as session:
            assert session.gpus_per_trial == 0.0 and "GPUs stay idle" in session.warning
    finally:
        ray.shutdown()
