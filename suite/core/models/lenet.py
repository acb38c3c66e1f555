"""LeNet-300-100 and LeNet-5 (DWF paper App. G.2), for MNIST-sized inputs and up."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from suite.core.models.input_shape import InputShape, require_min_size


def _conv_out(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    return (size + 2 * padding - kernel) // stride + 1


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
    require_min_size("lenet5", input_shape, 12)
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
