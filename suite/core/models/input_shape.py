"""Input shapes of the models: (channels, height, width), checked before building."""

from __future__ import annotations

InputShape = tuple[int, int, int]


def check_input_shape(input_shape: tuple[int, ...]) -> InputShape:
    """`input_shape` as three positive ints; ValueError naming the shape otherwise."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (channels, height, width) > 0, got {input_shape!r}")
    return shape  # type: ignore[return-value]


def require_min_size(model: str, input_shape: InputShape, minimum: int) -> None:
    """Fail early with a clear message instead of a shape error in forward()."""
    _, height, width = input_shape
    if height < minimum or width < minimum:
        raise ValueError(f"{model} needs inputs of at least {minimum}x{minimum}, got {height}x{width}")
