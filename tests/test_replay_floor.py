"""benchmarks/replay_floor.py: the fewest configurations the cells' rules force, checked on cases small enough
to count by hand."""

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from replay_floor import _merge, extra_level_points, group_floor  # noqa: E402

LEVELS = [10.0, 100.0, 1000.0]


def test_levels_a_decade_apart_need_one_configuration_each_at_a_bracket_of_ten():
    # 10 needs a point in its band [10, 11] (nothing below it may bracket it at a factor <= 10 and still sit
    # under 100's band), and so on up: three points, each in a band.
    assert extra_level_points([], LEVELS, 2000.0, 0.1, 10.0) == 3


def test_a_wider_bracket_lets_one_configuration_serve_two_levels():
    # At a factor 100, 10's band point and one at or above 1000 (within 100x of it) cover all three.
    assert extra_level_points([], LEVELS, 2000.0, 0.1, 100.0) == 2


def test_a_fixed_configuration_in_a_band_is_not_counted_again():
    assert extra_level_points([100.0], LEVELS, 2000.0, 0.1, 10.0) == 2
    assert extra_level_points([10.5, 105.0, 1050.0], LEVELS, 2000.0, 0.1, 10.0) == 0


def test_a_level_beyond_the_reachable_range_cannot_be_covered():
    assert extra_level_points([], [10.0, 5000.0], 2000.0, 0.1, 10.0) == float("inf")


def test_overlapping_intervals_share_one_point():
    assert _merge([(27.1, 29.8), (28.3, 31.1)]) == 1
    assert _merge([(150.0, 166.0), (340.0, 374.0)]) == 2
    assert _merge([]) == 0


def test_a_compression_axis_group_counts_its_levels_and_each_eps_cells_two_ends():
    g = SimpleNamespace(axis="compression", lo=10.0, hi=1000.0, key="gmp")
    settings = SimpleNamespace(tolerance=0.1, levels=[10.0, 100.0, 1000.0])
    # ε=5's boundary at CR 150: a on 3 seeds, b on one; ε=10's at CR 105: a may be the level target 100.
    true = {("eps", 5.0): 150.0, ("eps", 10.0): 105.0}
    assert group_floor(None, g, settings, 3, true, 10.0) == 3 * 3 + 3 + 2
