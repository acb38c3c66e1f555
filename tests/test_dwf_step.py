"""The fused DWF factor step (suite/core/dwf/step.py) against autograd and torch.optim.SGD.

The reference is the plain thing: the factors as parameters, the product as a
chain of multiplications, autograd for the factor gradients and torch's SGD
(momentum, coupled weight decay). The fused step must land on the same factors
and momentum buffers, step after step, with exact zeros in the factors and a
learning rate that changes between steps; compiled where this machine can
compile, and as the plain function everywhere (the mathematics, no compiler).
"""

import pytest
import torch
from torch import nn

from suite.config import TrialConfig
from suite.core.dwf.factorization import collapse, factor_parameters
from suite.core.dwf.compile import compile_setting, compiled_factor_sgd, compiler_missing, fused_step_wanted
from suite.core.dwf.step import FactorizedSGD, factor_sgd
from suite.builtins import METHODS
from suite.train import make_optimizer, train_step

NO_COMPILER = compiler_missing(torch.device("cpu"))
needs_compiler = pytest.mark.skipif(NO_COMPILER is not None, reason=f"{NO_COMPILER}")
LRS = (0.1, 0.05, 0.2, 0.01)  # a schedule moving between steps


def _factors(depth, shape, seed):
    gen = torch.Generator().manual_seed(seed)
    factors = [torch.randn(shape, generator=gen) for _ in range(depth)]
    factors[0][0, 0] = 0.0  # one factor zero
    factors[-1][1, :] = 0.0  # a row collapsed in the last factor
    factors[depth // 2][0, 1] = 0.0
    return factors


def _loss(products, targets):
    return sum(((p - t) ** 2 * (1 + t.abs())).sum() for p, t in zip(products, targets))


def _chain(factors):
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_compiler)])
@pytest.mark.parametrize("depth", [2, 3, 4, 5])
def test_fused_step_is_sgd_with_momentum_on_the_factors(depth, compiled):
    shapes = [(3, 4), (2, 3)] if depth != 5 else [(2, 3)]  # two tensors in one call
    init = [_factors(depth, s, seed) for seed, s in enumerate(shapes)]
    targets = [torch.randn(s, generator=torch.Generator().manual_seed(9)) for s in shapes]
    # Reference: autograd through the chain, torch's SGD.
    ref = [[nn.Parameter(f.clone()) for f in fs] for fs in init]
    sgd = torch.optim.SGD([p for fs in ref for p in fs], lr=LRS[0], momentum=0.9, weight_decay=3e-3)
    # Fused: gradient of the product only, then one factor_sgd call.
    mine = [[f.clone() for f in fs] for fs in init]
    bufs = [[torch.zeros_like(f) for f in fs] for fs in mine]
    products = [_chain(fs).clone() for fs in mine]
    update = compiled_factor_sgd() if compiled else factor_sgd
    for lr in LRS:
        for group in sgd.param_groups:
            group["lr"] = lr
        sgd.zero_grad()
        _loss([_chain(fs) for fs in ref], targets).backward()
        sgd.step()
        leaves = [p.clone().requires_grad_(True) for p in products]
        _loss(leaves, targets).backward()
        update(products, [leaf.grad for leaf in leaves], mine, bufs,
               torch.tensor(lr), torch.tensor(3e-3), torch.tensor(0.9))
        for fs_ref, fs_mine, bs in zip(ref, mine, bufs):
            for p, f, b in zip(fs_ref, fs_mine, bs):
                torch.testing.assert_close(f, p.detach(), rtol=1e-5, atol=5e-6)  # float rounding, not method
                # float rounding, not method
                torch.testing.assert_close(b, sgd.state[p]["momentum_buffer"], rtol=1e-5, atol=5e-6)
        for product, fs in zip(products, mine):
            torch.testing.assert_close(product, _chain(fs), rtol=1e-6, atol=1e-7)


def _trial(depth, lam=1e-3):
    cfg = TrialConfig(model="lenet300", dataset="fmnist", method="dwf", depth=depth, lam=lam, lr=0.1, epochs=1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    prepared = METHODS.get("dwf").prepare(cfg, model, torch.Generator().manual_seed(0))
    return cfg, prepared


@needs_compiler
@pytest.mark.parametrize("depth", [2, 4])
def test_a_network_trains_the_same_with_the_fused_step_as_with_the_eager_path(depth, monkeypatch):
    x, y = torch.randn(16, 12, generator=torch.Generator().manual_seed(1)), torch.arange(16) % 3
    runs = {}
    for setting in ("0", "1"):
        monkeypatch.setenv("BENCH_COMPILE", setting)
        cfg, prepared = _trial(depth)
        optimizer, scheduler = make_optimizer(cfg, prepared, epochs=3)
        assert isinstance(optimizer, FactorizedSGD) == (setting == "1")
        losses = []
        for _ in range(3):
            for _ in range(4):
                losses.append(float(train_step(prepared, optimizer, x, y)[0].detach()))
            scheduler.step()
        runs[setting] = (losses, prepared.model, optimizer)
    (loss_e, net_e, opt_e), (loss_f, net_f, opt_f) = runs["0"], runs["1"]
    assert loss_f == pytest.approx(loss_e, rel=1e-5)
    for pe, pf in zip(factor_parameters(net_e), factor_parameters(net_f)):
        torch.testing.assert_close(pf, pe, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(opt_f.state[pf]["momentum_buffer"], opt_e.state[pe]["momentum_buffer"],
                                   rtol=1e-5, atol=1e-7)
    # The collapsed network computes what its factors compute.
    torch.testing.assert_close(collapse(net_f, threshold=0.0)(x), net_f(x), rtol=1e-5, atol=1e-6)


@needs_compiler
def test_a_factor_changed_outside_the_step_reaches_the_next_forward(monkeypatch):
    monkeypatch.setenv("BENCH_COMPILE", "1")
    cfg, prepared = _trial(3)
    optimizer, _ = make_optimizer(cfg, prepared, epochs=1)
    x = torch.randn(4, 12)
    before = prepared.model(x)
    with torch.no_grad():
        factor_parameters(prepared.model)[0].zero_()  # the first layer's weight is now all zero
    after = prepared.model(x)
    assert not torch.equal(before, after)
    assert torch.count_nonzero(prepared.model[1].weight) == 0
    # ...and a state_dict loaded into the network too.
    other = _trial(3)[1].model
    prepared.model.load_state_dict(other.state_dict())
    torch.testing.assert_close(prepared.model(x), other(x))


def test_the_compile_setting_is_auto_by_default_and_names_bad_values(monkeypatch):
    monkeypatch.delenv("BENCH_COMPILE", raising=False)
    assert compile_setting() is None
    assert fused_step_wanted(torch.device("cpu")) is (NO_COMPILER is None)
    monkeypatch.setenv("BENCH_COMPILE", "0")
    assert fused_step_wanted(torch.device("cpu")) is False
    monkeypatch.setenv("BENCH_COMPILE", "fast")
    with pytest.raises(ValueError, match=r"BENCH_COMPILE='fast' not allowed; allowed: auto"):
        compile_setting()


def test_asking_for_compilation_without_a_compiler_is_an_error_that_names_it(monkeypatch):
    monkeypatch.setenv("BENCH_COMPILE", "1")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="C\\+\\+ compiler"):
        fused_step_wanted(torch.device("cpu"))
    monkeypatch.setenv("BENCH_COMPILE", "auto")
    assert fused_step_wanted(torch.device("cpu")) is False  # auto falls back to the eager path


@needs_compiler
def test_a_tensor_without_gradient_is_left_alone_as_torch_sgd_does(monkeypatch):
    monkeypatch.setenv("BENCH_COMPILE", "1")
    cfg, prepared = _trial(2)
    optimizer, _ = make_optimizer(cfg, prepared, epochs=1)
    net, composer = prepared.model, optimizer.composer
    before = [p.detach().clone() for p in factor_parameters(net)]
    optimizer.zero_grad()
    net(torch.randn(4, 12)).square().sum().backward()
    composer.leaves[-1].grad = None  # the last layer's bias: as if the loss had not reached it
    optimizer.step()
    after = factor_parameters(net)
    assert all(torch.equal(p, q) for p, q in zip(after[-2:], before[-2:]))  # its two factors
    assert not any(torch.equal(p, q) for p, q in zip(after[:-2], before[:-2]))
    assert all(p.grad is None for p in after)  # autograd stopped at the products


def test_auto_falls_back_to_the_eager_path_when_compiling_fails(monkeypatch):
    import suite.core.dwf.compile as dc

    def broken():
        raise RuntimeError("fatal error: Python.h: No such file or directory\nmore")
    monkeypatch.setattr(dc, "_probed", {})
    monkeypatch.setattr(dc, "compiled_factor_sgd", broken)
    monkeypatch.setattr(dc, "compiler_missing", lambda device: None)
    monkeypatch.setenv("BENCH_COMPILE", "auto")
    with pytest.warns(UserWarning, match="does not compile on cpu .*Python.h.*training eagerly"):
        assert dc.fused_step_wanted(torch.device("cpu")) is False
    monkeypatch.setenv("BENCH_COMPILE", "1")
    assert dc.fused_step_wanted(torch.device("cpu")) is True  # asked for: the failure surfaces when it runs


@needs_compiler
def test_a_plain_optimizer_built_later_takes_the_network_out_of_leaf_mode(monkeypatch):
    monkeypatch.setenv("BENCH_COMPILE", "1")
    cfg, prepared = _trial(2)
    make_optimizer(cfg, prepared, epochs=1)
    monkeypatch.setenv("BENCH_COMPILE", "0")
    optimizer, _ = make_optimizer(cfg, prepared, epochs=1)
    before = [p.detach().clone() for p in factor_parameters(prepared.model)]
    train_step(prepared, optimizer, torch.randn(8, 12), torch.arange(8) % 3)
    assert not any(torch.equal(p, q) for p, q in zip(factor_parameters(prepared.model), before))


@needs_compiler
def test_a_gradient_on_a_factor_itself_is_refused_not_dropped(monkeypatch):
    monkeypatch.setenv("BENCH_COMPILE", "1")
    cfg, prepared = _trial(2)
    optimizer, _ = make_optimizer(cfg, prepared, epochs=1)
    prepared.model(torch.randn(4, 12)).sum().backward()
    factor_parameters(prepared.model)[0].square().sum().backward()  # e.g. a penalty on the factors
    with pytest.raises(RuntimeError, match="gradient of its own"):
        optimizer.step()


@needs_compiler
def test_unsupported_sgd_options_in_a_factorized_group_are_named(monkeypatch):
    cfg, prepared = _trial(2)
    composer = prepared.model.__dict__["dwf_composer"]
    with pytest.raises(ValueError, match="nesterov"):
        FactorizedSGD(prepared.param_groups, composer, factor_sgd, lr=0.1, momentum=0.9, nesterov=True)


@needs_compiler
def test_an_inference_mode_forward_after_a_factor_change_does_not_break_training(monkeypatch):
    monkeypatch.setenv("BENCH_COMPILE", "1")
    cfg, prepared = _trial(2)
    optimizer, _ = make_optimizer(cfg, prepared, epochs=1)
    with torch.no_grad():
        factor_parameters(prepared.model)[0].mul_(0.5)
    with torch.inference_mode():
        prepared.model(torch.randn(4, 12))  # rebuilds the products here
    train_step(prepared, optimizer, torch.randn(8, 12), torch.arange(8) % 3)


@needs_compiler
def test_a_row_says_whether_the_compiled_step_trained_it(monkeypatch):
    from suite.train import run_trial
    for setting, device in (("1", "cpu (compiled DWF step)"), ("0", "cpu")):
        monkeypatch.setenv("BENCH_COMPILE", setting)
        cfg = TrialConfig(model="lenet300", dataset="synthetic", method="dwf", depth=2, lam=1e-4, epochs=1)
        assert {row["device"] for row in run_trial(cfg, device="cpu").rows} == {device}
