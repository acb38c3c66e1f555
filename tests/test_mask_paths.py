"""experiments/mask_paths.py and `suite.train.initial_network`: the mask a pruning-at-init trial trained
with, rebuilt without training, and how much of the network it leaves connected."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from suite.config import TrialConfig
from suite.core.data.registry import load_dataset
from suite.results.store import write_trial
from suite.train import initial_network, run_trial, trial_context

SCRIPT = Path(__file__).resolve().parent.parent / "experiments" / "mask_paths.py"


def _script():
    spec = importlib.util.spec_from_file_location("mask_paths", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_connectivity_follows_paths_from_the_input_through_kept_weights():
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 0, 0]]))   # hidden 1: unit 0 sees the input, unit 1 nothing
        net[2].weight.copy_(torch.tensor([[0.0, 1], [1, 0]]))         # hidden 2: unit 0 fed by the dead unit only
        net[4].weight.copy_(torch.tensor([[1.0, 0], [0, 1], [0, 0]]))  # class 0 from the dead unit, 1 live, 2 none
    assert _script().connectivity(net) == ([1, 2, 2], [1, 1], 1)


def test_initial_network_is_the_mask_the_trial_trained_with():
    """Rebuilt without training, a random and a SNIP trial's masks are exactly the weights the trained
    network kept (its trial's seeded init and scoring batch), weight for weight."""
    data = load_dataset("synthetic", None)
    for method in ("random", "snip"):
        cfg = TrialConfig(model="lenet300", dataset="synthetic", method=method, lr=0.1, epochs=1, compressions=(20.0,),
                          seed=1)
        start = initial_network(cfg, data)
        trained, status = trial_context(data, torch.device("cpu")).train_network(cfg)
        assert status == "ok"
        layers = lambda net: [m.weight != 0 for m in net.modules() if isinstance(m, nn.Linear)]  # noqa: E731
        for before, after in zip(layers(start), layers(trained), strict=True):
            assert torch.equal(before, after), method
        stored = [layer["nonzero_params"] for layer in run_trial(cfg).layers if layer["point_id"] == 0]
        assert [int(m.sum()) for m in layers(start)] == stored, method  # what run_trial itself stored
        other = initial_network(TrialConfig(**{**cfg.to_dict(), "seed": 2}), data)
        assert not all(torch.equal(a, b) for a, b in zip(layers(start), layers(other)))


def test_the_script_prints_one_line_per_stored_trial_and_refuses_a_method_it_cannot_rebuild(tmp_path):
    cfg = TrialConfig(model="lenet300", dataset="synthetic", method="random", lr=0.1, epochs=1, compressions=(50.0,),
                      sweep="s")
    write_trial(tmp_path, "s", run_trial(cfg))
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "s"), "--methods", "random", "--targets", "50"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    line = run.stdout.splitlines()[1].split()
    assert line[:3] == ["random", "50", "0"]
    layers_file = tmp_path / "s" / "layers" / f"{cfg.config_hash}.parquet"
    layers = pd.read_parquet(layers_file)
    layers.loc[0, "nonzero_params"] += 1  # a stored trial whose mask is not the one rebuilt
    layers.to_parquet(layers_file)
    mismatch = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "s"), "--methods", "random", "--targets",
                               "50"], capture_output=True, text=True, timeout=300)
    assert mismatch.returncode == 1 and "not the mask it trained with" in mismatch.stderr
    refused = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "s"), "--methods", "gmp"],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "gmp not a pruning-at-init method" in refused.stderr
