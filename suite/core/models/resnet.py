"""ResNet-18 and WideResNet-16-8 for small images (DWF paper App. G.2)."""

from __future__ import annotations

import torch
from torch import nn

from suite.core.models.input_shape import InputShape, require_min_size


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
    require_min_size("resnet18", input_shape, 8)
    return ResNet(input_shape[0], num_classes, blocks_per_stage=(2, 2, 2, 2))


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
    require_min_size("wrn16_8", input_shape, 4)
    return WideResNet(input_shape[0], num_classes, depth=16, widen=8)
