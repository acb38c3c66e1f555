"""Model registry: the architectures of the DWF paper (App. G.2), by name.

Every model is built by name with `build_model(name, num_classes, input_shape)`
(the architectures live in lenet.py, vgg.py and resnet.py; `MODELS` lists them)
and adapts to the input shape (channels, height, width), so e.g. `lenet300`
on CIFAR gets 3 * 32 * 32 = 3072 inputs.

Conventions shared by all models (choices where the paper is silent):

* Learnable weights live only in `nn.Linear` and `nn.Conv2d` modules (plus the
  affine parameters of BatchNorm). DWF factorizes every Linear/Conv weight and
  every *existing* bias; BatchNorm parameters stay plain.
* `nn.Linear` always has a bias.
* Every `nn.Conv2d` here is followed (directly, or after a residual addition)
  by BatchNorm, so convs use `bias=False`: BatchNorm subtracts the batch mean,
  which cancels a preceding per-channel bias exactly, and BatchNorm's own shift
  takes its role. A conv bias would therefore add parameters without function
  and inflate total-parameter counts and compression ratios.
* PyTorch default initialization; the training code re-initializes.
* `nn.ReLU()` is not in-place, so forward hooks used by pruning baselines
  always see unmodified activations.
* No dropout anywhere (the paper mentions none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from suite.core.models.input_shape import InputShape, check_input_shape
from suite.core.models.lenet import lenet5, lenet300
from suite.core.models.resnet import resnet18, wrn16_8
from suite.core.models.vgg import vgg16, vgg19
from suite.registry import Registry

Builder = Callable[[int, InputShape], nn.Module]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    # builder(num_classes, input_shape) -> a fresh, default-initialized nn.Module.
    builder: Builder
    description: str
    # The paper's name, for titles and table sections.
    title: str
    # The dataset the paper trains it on (Table 4), for `bench list` counts.
    natural_dataset: str = "mnist"


MODELS: Registry[ModelSpec] = Registry("model", [
    ModelSpec("lenet300", lenet300, "LeNet-300-100: MLP in-300-100-classes, ReLU", "LeNet-300-100"),
    ModelSpec("lenet5", lenet5, "LeNet-5: conv6-conv16 (5x5, BN, ReLU, avgpool) + FC 120-84-classes", "LeNet-5"),
    ModelSpec("vgg16", vgg16, "VGG-16 (CIFAR): 13 conv3x3 with BN + FC 512-512-classes", "VGG-16",
              natural_dataset="cifar10"),
    ModelSpec("vgg19", vgg19, "VGG-19 (CIFAR): 16 conv3x3 with BN + FC 512-classes", "VGG-19",
              natural_dataset="cifar100"),
    ModelSpec("resnet18", resnet18, "ResNet-18 (CIFAR variant): 3x3 stem, no max pool, 4x2 basic blocks",
              "ResNet-18", natural_dataset="cifar10"),
    ModelSpec("wrn16_8", wrn16_8, "WideResNet-16-8: pre-activation, widths 16-128-256-512, no dropout", "WRN-16-8",
              natural_dataset="cifar10"),
])


def build_model(name: str, num_classes: int, input_shape: tuple[int, int, int]) -> nn.Module:
    """Build a fresh, default-initialized model for `num_classes` and (C, H, W) inputs."""
    spec = MODELS.get(name)
    shape = check_input_shape(input_shape)
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    return spec.builder(int(num_classes), shape)
