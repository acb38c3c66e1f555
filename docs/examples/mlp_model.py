"""A small MLP with a configurable hidden width: a model written outside the project, as a user's plugin.

Flatten, then `depth` hidden layers of `width` units with ReLU, then the classes: LeNet-300-100's shape
with knobs. A model's builder takes only `(num_classes, input_shape)`, so a knob of the architecture is
part of the model's name: `mlp_model(width)` makes a builder and this file registers two widths,
`mlp64` and `mlp256` (a config names its model, so trials of different widths hash apart and a report
shows them as separate sections). Register another width with one more line.

Its prunable layers are `nn.Linear` (with bias, as every Linear here), so DWF factorizes every weight and
bias, and the pruning baselines and the compression ratio count them, with no code of its own. Run it with

    bench run --plugin docs/examples/mlp_model.py --model mlp64 --dataset mnist --method dwf --depth 2 \
      --lam 1e-4 --epochs 1

or list the file under a sweep spec's `plugins:` (docs/extending.md, "Add a model or a dataset"). It uses
only the public model API: `ModelSpec`, `MODELS.register`, and `InputShape`.
"""

from __future__ import annotations

from collections import OrderedDict
from math import prod

from torch import nn

from suite.core.models.input_shape import InputShape
from suite.core.models.registry import MODELS, ModelSpec


def mlp_model(width: int, depth: int = 2):
    """The builder of an MLP in -> width (x depth) -> classes; named layers label per-layer counts."""
    if width < 1 or depth < 1:
        raise ValueError(f"an MLP needs width >= 1 and depth >= 1, got width {width}, depth {depth}")

    def build(num_classes: int, input_shape: InputShape) -> nn.Module:
        layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
        fan_in = prod(input_shape)  # adapts to any (channels, height, width)
        for i in range(1, depth + 1):
            layers += [(f"fc{i}", nn.Linear(fan_in, width)), (f"relu{i}", nn.ReLU())]  # not in place: hooks see
            fan_in = width                                                              # unmodified activations
        layers.append((f"fc{depth + 1}", nn.Linear(fan_in, num_classes)))
        return nn.Sequential(OrderedDict(layers))

    return build


for _width in (64, 256):
    MODELS.register(ModelSpec(
        name=f"mlp{_width}",
        builder=mlp_model(_width),
        description=f"MLP in-{_width}-{_width}-classes, ReLU (a plugin: docs/examples/mlp_model.py)",
        title=f"MLP-{_width}",  # the name tables and figures give its sections
        # `bench list` counts its parameters on this dataset's inputs: a built-in one, so the count needs
        # no other plugin.
        natural_dataset="mnist",
    ))
