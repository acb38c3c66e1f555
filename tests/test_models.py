"""Model registry: every registered model builds, runs and has its pinned size."""

from __future__ import annotations

from functools import cache

import pytest
import torch
from torch import nn

from suite.core.data.registry import DATASETS
from suite.core.models.registry import MODELS, ModelSpec, build_model
from suite.registry import UnknownNameError

MNIST_SHAPE = (1, 28, 28)
CIFAR_SHAPE = (3, 32, 32)

# name -> (all parameters, Linear/Conv weights+biases) on the model's natural
# dataset (App. G.2, Table 4). The LeNet counts were
# checked by hand:
#   lenet300: 784*300+300 + 300*100+100 + 100*10+10 = 266,610 (no BN).
#   lenet5 (padding 2, conv without bias): conv 1*6*25 + 6*16*25 = 2,550;
#     FC 400*120+120 + 120*84+84 + 84*10+10 = 59,134 -> 61,684;
#     plus BN 2*(6+16) = 44 -> 61,728.
#   vgg16: convs 14,710,464 + BN 8,448 + FC 512*512*2+512*2 + 5,130 = 15,249,354.
#   resnet18: the well-known 11,173,962 of the CIFAR-10 ResNet-18.
PINNED = {
    "lenet300": (266_610, 266_610),
    "lenet5": (61_728, 61_684),
    "vgg16": (15_249_354, 15_240_906),
    "vgg19": (20_343_844, 20_332_836),
    "resnet18": (11_173_962, 11_164_362),
    "wrn16_8": (10_961_370, 10_954_170),
}


@cache
def _natural_model(name: str) -> nn.Module:
    """Built once per test session: default init of the big models costs ~1 s each."""
    dataset = DATASETS.get(MODELS.get(name).natural_dataset)
    return build_model(name, dataset.num_classes, dataset.input_shape)


def _factorizable(model: nn.Module) -> int:
    return sum(
        p.numel()
        for module in model.modules()
        if isinstance(module, (nn.Linear, nn.Conv2d))
        for p in module.parameters(recurse=False)
    )


@pytest.mark.parametrize("name", MODELS.names())
def test_builds_and_forwards_on_a_batch_of_its_datasets_shape(name: str) -> None:
    spec = MODELS.get(name)
    assert spec.natural_dataset in DATASETS, f"{name}: natural_dataset {spec.natural_dataset!r} is not registered"
    assert spec.description and spec.title
    dataset = DATASETS.get(spec.natural_dataset)
    with torch.no_grad():
        out = _natural_model(name)(torch.randn(2, *dataset.input_shape))
    assert out.shape == (2, dataset.num_classes)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_parameter_counts(name: str) -> None:
    total, factorizable = PINNED[name]
    model = _natural_model(name)
    assert sum(p.numel() for p in model.parameters()) == total
    assert _factorizable(model) == factorizable


def test_lenet300_has_266610_parameters() -> None:
    model = build_model("lenet300", 10, MNIST_SHAPE)
    assert sum(p.numel() for p in model.parameters()) == 266_610


def test_lenet300_adapts_to_cifar_inputs() -> None:
    model = build_model("lenet300", 10, CIFAR_SHAPE)
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    assert first.in_features == 3072


@pytest.mark.parametrize("name", MODELS.names())
def test_runs_on_tiny_imagenet_shape(name: str) -> None:
    model = build_model(name, 200, (3, 64, 64)).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 200)


@pytest.mark.parametrize("name", MODELS.names())
def test_weights_only_in_linear_conv_and_batchnorm(name: str) -> None:
    model = _natural_model(name)
    for module in model.modules():
        own = list(module.parameters(recurse=False))
        if isinstance(module, nn.Linear):
            assert module.bias is not None
        elif isinstance(module, nn.Conv2d):
            # Every conv feeds BatchNorm, which makes a conv bias redundant.
            assert module.bias is None
        elif own:
            assert isinstance(module, nn.BatchNorm2d), type(module)


def test_unknown_name_lists_allowed_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        build_model("lenet9000", 10, MNIST_SHAPE)
    message = str(info.value)
    assert "lenet9000" in message
    for name in MODELS.names():
        assert name in message
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)


def test_too_small_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least 32x32"):
        build_model("vgg16", 10, MNIST_SHAPE)


def test_bad_arguments_rejected() -> None:
    with pytest.raises(ValueError):
        build_model("lenet300", 0, MNIST_SHAPE)
    with pytest.raises(ValueError):
        build_model("lenet300", 10, (28, 28))  # type: ignore[arg-type]


def test_duplicate_registration_rejected() -> None:
    with pytest.raises(ValueError, match="already registered"):
        MODELS.register(ModelSpec("lenet300", lambda num_classes, input_shape: nn.Identity(), "a stand-in", "X"))
    assert MODELS.get("lenet300").title == "LeNet-300-100"  # the first registration stands
