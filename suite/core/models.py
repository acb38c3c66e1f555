"""Model registry: the architectures of the DWF paper (App. G.2).

Every model is built by name with `build_model(name, num_classes, input_shape)`
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
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

InputShape = tuple[int, int, int]
Builder = Callable[[int, InputShape], nn.Module]


class UnknownModelError(ValueError, KeyError):
    """An unknown model name; the message lists the registered names.

    Subclasses both ValueError (a bad argument) and KeyError (a failed registry
    lookup) so callers can catch either.
    """

    def __str__(self) -> str:
        # KeyError.__str__ would repr-quote the message; show it plainly.
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    builder: Builder
    description: str
    # The dataset the paper trains it on (Table 4), for `bench list` counts.
    natural_dataset: str = "mnist"


MODELS: dict[str, ModelSpec] = {}


def register_model(name: str, description: str = "", natural_dataset: str = "mnist") -> Callable[[Builder], Builder]:
    """Decorator adding `builder(num_classes, input_shape) -> nn.Module` to MODELS."""

    def decorate(builder: Builder) -> Builder:
        if name in MODELS:
            raise ValueError(f"model {name!r} is already registered")
        MODELS[name] = ModelSpec(name, builder, description or (builder.__doc__ or "").strip(), natural_dataset)
        return builder

    return decorate


def list_models() -> list[str]:
    return sorted(MODELS)


def get_model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        allowed = ", ".join(list_models())
        raise UnknownModelError(f"unknown model {name!r}; allowed: {allowed}") from None


def build_model(name: str, num_classes: int, input_shape: tuple[int, int, int]) -> nn.Module:
    """Build a fresh, default-initialized model for `num_classes` and (C, H, W) inputs."""
    spec = get_model_spec(name)
    shape = _check_input_shape(input_shape)
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    return spec.builder(int(num_classes), shape)


def _check_input_shape(input_shape: tuple[int, ...]) -> InputShape:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (channels, height, width) > 0, got {input_shape!r}")
    return shape  # type: ignore[return-value]


def _conv_out(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _require_min_size(model: str, input_shape: InputShape, minimum: int) -> None:
    """Fail early with a clear message instead of a shape error in forward()."""
    _, height, width = input_shape
    if height < minimum or width < minimum:
        raise ValueError(f"{model} needs inputs of at least {minimum}x{minimum}, got {height}x{width}")


# --------------------------------------------------------------------------- LeNets


@register_model("lenet300", description="LeNet-300-100: MLP in-300-100-classes, ReLU")
def lenet300(num_classes: int, input_shape: InputShape) -> nn.Module:
    """LeNet-300-100 (LeCun et al., 1989, with ReLU as in the paper).

    Flatten, then FC in -> 300 -> 100 -> num_classes with ReLU between layers.
    On 1x28x28 / 10 classes: 266,610 parameters. Fully specified by the paper.
    """
    in_features = input_shape[0] * input_shape[1] * input_shape[2]
    # Named layers: the names label per-layer counts and the Fig. 10 plot.
    return nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(in_features, 300)),
        ("relu1", nn.ReLU()),
        ("fc2", nn.Linear(300, 100)),
        ("relu2", nn.ReLU()),
        ("fc3", nn.Linear(100, num_classes)),
    ]))


@register_model("lenet5", description="LeNet-5: conv6-conv16 (5x5, BN, ReLU, avgpool) + FC 120-84-classes")
def lenet5(num_classes: int, input_shape: InputShape) -> nn.Module:
    """LeNet-5 (LeCun et al., 1998) with BatchNorm and ReLU as in the paper.

    conv 5x5 (6) -> BN -> ReLU -> avgpool 2x2 -> conv 5x5 (16) -> BN -> ReLU ->
    avgpool 2x2 -> flatten -> FC 120 -> ReLU -> FC 84 -> ReLU -> FC classes.

    Left open by the paper, chosen here:
    * Padding: the first conv uses padding=2, the second none. LeCun et al.
      padded the 28x28 digits to 32x32, so padding=2 reproduces the classic
      geometry (28 -> 28 -> 14 -> 10 -> 5) and the classic 16*5*5 = 400 inputs
      of FC-120. For other input sizes the flatten size is computed.
    * Order within a stage: conv -> BN -> ReLU -> pool (BN before ReLU, as for
      the paper's VGGs).
    * Convs have no bias (redundant before BN, see module docstring).
    """
    channels, height, width = input_shape
    _require_min_size("lenet5", input_shape, 12)
    feat_h = _conv_out(_conv_out(height, 5, padding=2) // 2, 5) // 2
    feat_w = _conv_out(_conv_out(width, 5, padding=2) // 2, 5) // 2
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(channels, 6, kernel_size=5, padding=2, bias=False)),
        ("bn1", nn.BatchNorm2d(6)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.AvgPool2d(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5, bias=False)),
        ("bn2", nn.BatchNorm2d(16)),
        ("relu2", nn.ReLU()),
        ("pool2", nn.AvgPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(16 * feat_h * feat_w, 120)),
        ("relu3", nn.ReLU()),
        ("fc2", nn.Linear(120, 84)),
        ("relu4", nn.ReLU()),
        ("fc3", nn.Linear(84, num_classes)),
    ]))


# --------------------------------------------------------------------------- VGG

VGG16_GROUPS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
VGG19_GROUPS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def _vgg_features(in_channels: int, groups: tuple[tuple[int, int], ...]) -> list[nn.Module]:
    """3x3 conv -> BN -> ReLU per layer, 2x2 max pool after each group."""
    layers: list[nn.Module] = []
    for width, repeats in groups:
        for _ in range(repeats):
            layers += [
                nn.Conv2d(in_channels, width, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
            ]
            in_channels = width
        layers.append(nn.MaxPool2d(2))
    return layers


def _vgg(
    name: str,
    groups: tuple[tuple[int, int], ...],
    hidden: tuple[int, ...],
    num_classes: int,
    input_shape: InputShape,
) -> nn.Module:
    """VGG features + flatten + FC layers `hidden` (ReLU between) + output FC."""
    channels, height, width = input_shape
    downsample = 2 ** len(groups)
    _require_min_size(name, input_shape, downsample)
    in_features = groups[-1][0] * (height // downsample) * (width // downsample)
    classifier: list[nn.Module] = [nn.Flatten()]
    for units in hidden:
        classifier += [nn.Linear(in_features, units), nn.ReLU()]
        in_features = units
    classifier.append(nn.Linear(in_features, num_classes))
    return nn.Sequential(*_vgg_features(channels, groups), *classifier)


@register_model("vgg16", natural_dataset="cifar10", description="VGG-16 (CIFAR): 13 conv3x3 with BN + FC 512-512-classes")
def vgg16(num_classes: int, input_shape: InputShape) -> nn.Module:
    """VGG-16 for CIFAR as in Lee et al. (2019, SNIP), with BatchNorm.

    13 convs 3x3 (2x64, 2x128, 3x256, 3x512, 3x512), each conv -> BN -> ReLU,
    2x2 max pool after each group, then 3 FC layers.

    Left open by the paper, chosen here:
    * FC sizes: 512 -> 512 -> 512 -> classes (the "512-512-classes" head of
      SNIP's CIFAR VGG; the ImageNet 4096-unit layers make no sense on a 1x1x512
      feature map).
    * No adaptive pooling: the last feature map is flattened, so on 32x32 the
      first FC sees 512 features and on larger inputs 512 * (H/32) * (W/32).
    * No dropout; convs without bias (redundant before BN).
    """
    return _vgg("vgg16", VGG16_GROUPS, (512, 512), num_classes, input_shape)


@register_model("vgg19", natural_dataset="cifar100", description="VGG-19 (CIFAR): 16 conv3x3 with BN + FC 512-classes")
def vgg19(num_classes: int, input_shape: InputShape) -> nn.Module:
    """VGG-19 for CIFAR following Zagoruyko (2015), with BatchNorm.

    16 convs 3x3 (2x64, 2x128, 4x256, 4x512, 4x512), each conv -> BN -> ReLU,
    2x2 max pool after each group, then FC 512 -> 512 -> ReLU -> FC classes
    (the two 4096-unit layers of the ImageNet version become one 512-unit layer).

    Left open by the paper, chosen here: Zagoruyko's head also has dropout and
    BatchNorm1d around the hidden FC layer; both are left out so the head
    matches VGG-16's (plain Linear + ReLU). Flattening as in `vgg16`.
    """
    return _vgg("vgg19", VGG19_GROUPS, (512,), num_classes, input_shape)


# --------------------------------------------------------------------------- ResNet-18


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Post-activation ResNet basic block (He et al., 2016).

    conv3x3 -> BN -> ReLU -> conv3x3 -> BN, plus the shortcut, then ReLU. The
    shortcut is a 1x1 conv + BN projection when the shape changes (option B).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = _conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR-style ResNet: 3x3 stride-1 stem, no max pool, basic-block stages."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        blocks_per_stage: tuple[int, ...],
        widths: tuple[int, ...] = (64, 128, 256, 512),
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(_conv3x3(in_channels, widths[0]), nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages: list[nn.Module] = []
        current = widths[0]
        for index, (width, blocks) in enumerate(zip(widths, blocks_per_stage)):
            stride = 1 if index == 0 else 2
            stages.append(self._stage(current, width, blocks, stride))
            current = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(current, num_classes)

    @staticmethod
    def _stage(in_channels: int, out_channels: int, blocks: int, stride: int) -> nn.Sequential:
        first = BasicBlock(in_channels, out_channels, stride)
        rest = [BasicBlock(out_channels, out_channels) for _ in range(blocks - 1)]
        return nn.Sequential(first, *rest)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pool(self.stages(self.stem(x)))
        return self.fc(torch.flatten(out, 1))


@register_model("resnet18", natural_dataset="cifar10", description="ResNet-18 (CIFAR variant): 3x3 stem, no max pool, 4x2 basic blocks")
def resnet18(num_classes: int, input_shape: InputShape) -> nn.Module:
    """ResNet-18 adapted to small images as in Tanaka et al. (2020, SynFlow).

    3x3 stride-1 stem conv + BN + ReLU, no max pool, 4 stages of 2 BasicBlocks
    with 64/128/256/512 filters (stride 2 at the start of stages 2-4), global
    average pooling, FC.

    Left open by the paper, chosen here: projection shortcuts (1x1 conv + BN)
    where the shape changes, identity otherwise; convs without bias. Adaptive
    average pooling makes the model work on any input of at least 8x8
    (e.g. 64x64 Tiny ImageNet).
    """
    _require_min_size("resnet18", input_shape, 8)
    return ResNet(input_shape[0], num_classes, blocks_per_stage=(2, 2, 2, 2))


# --------------------------------------------------------------------------- WideResNet


class WideBasicBlock(nn.Module):
    """Pre-activation wide block (Zagoruyko & Komodakis, 2016).

    BN -> ReLU -> conv3x3(stride) -> BN -> ReLU -> conv3x3, added to the input.
    When the shape changes, the shortcut is a 1x1 conv (no BN) applied to the
    pre-activated input, as in the authors' reference implementation.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = _conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = _conv3x3(out_channels, out_channels)
        self.relu = nn.ReLU()
        self.shortcut: nn.Module | None = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        skip = x if self.shortcut is None else self.shortcut(pre)
        return out + skip


class WideResNet(nn.Module):
    """WRN-depth-k: 3x3 stem (16), three groups of wide blocks, BN-ReLU, pool, FC."""

    def __init__(self, in_channels: int, num_classes: int, depth: int, widen: int) -> None:
        super().__init__()
        if (depth - 4) % 6 != 0:
            raise ValueError(f"WideResNet depth must be 6n + 4, got {depth}")
        blocks = (depth - 4) // 6
        widths = (16, 16 * widen, 32 * widen, 64 * widen)
        self.stem = _conv3x3(in_channels, widths[0])
        groups: list[nn.Module] = []
        for index, width in enumerate(widths[1:]):
            stride = 1 if index == 0 else 2
            first = WideBasicBlock(widths[index], width, stride)
            groups.append(nn.Sequential(first, *[WideBasicBlock(width, width) for _ in range(blocks - 1)]))
        self.groups = nn.Sequential(*groups)
        self.bn = nn.BatchNorm2d(widths[-1])
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn(self.groups(self.stem(x))))
        return self.fc(torch.flatten(self.pool(out), 1))


@register_model("wrn16_8", natural_dataset="cifar10", description="WideResNet-16-8: pre-activation, widths 16-128-256-512, no dropout")
def wrn16_8(num_classes: int, input_shape: InputShape) -> nn.Module:
    """WideResNet-16-8 (Zagoruyko & Komodakis, 2016).

    3x3 stem conv with 16 filters, three groups of 2 pre-activation wide blocks
    with 128/256/512 filters (strides 1/2/2), final BN + ReLU, global average
    pooling, FC.

    Left open by the paper, chosen here: no dropout (the paper mentions none;
    the WRN paper's CIFAR default is also without it); 1x1 conv shortcuts
    without BN where the shape changes, as in the reference implementation;
    adaptive average pooling instead of the fixed 8x8 pool so 64x64 inputs work.
    """
    _require_min_size("wrn16_8", input_shape, 4)
    return WideResNet(input_shape[0], num_classes, depth=16, widen=8)
