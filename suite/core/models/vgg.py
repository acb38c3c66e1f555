"""VGG-16 and VGG-19 for CIFAR-sized inputs, with BatchNorm (DWF paper App. G.2)."""

from __future__ import annotations

from torch import nn

from suite.core.models.input_shape import InputShape, require_min_size


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
    require_min_size(name, input_shape, downsample)
    in_features = groups[-1][0] * (height // downsample) * (width // downsample)
    classifier: list[nn.Module] = [nn.Flatten()]
    for units in hidden:
        classifier += [nn.Linear(in_features, units), nn.ReLU()]
        in_features = units
    classifier.append(nn.Linear(in_features, num_classes))
    return nn.Sequential(*_vgg_features(channels, groups), *classifier)


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
