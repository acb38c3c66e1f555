"""The `adaptive:` key of a sweep spec: its defaults, and each bad value named by its key."""

from __future__ import annotations

import pytest

from suite.sweep.adaptive_spec import AdaptiveSpecError, parse_adaptive


@pytest.mark.parametrize("value, key", [
    ({"tolerance": 0}, "adaptive.tolerance"), ({"budget": 0}, "adaptive.budget"), ({"eps": [0]}, "adaptive.eps[0]"),
    ({"levels": [1]}, "adaptive.levels[0]"), ({"bogus": 1}, "adaptive.bogus"), ({"eps": [], "levels": []}, "adaptive"),
    ("yes", "adaptive"),
])
def test_bad_adaptive_keys_are_named(value, key):
    with pytest.raises(AdaptiveSpecError) as err:
        parse_adaptive(value)
    assert err.value.key == key and "allowed" in str(err.value)


def test_adaptive_key_defaults():
    s = parse_adaptive(True)
    assert s.eps == (5, 10) and s.levels[0] == 10 and s.levels[-1] == 1000 and s.budget >= 1
    assert parse_adaptive({"levels": [20, 10]}).levels == (10.0, 20.0)
    assert parse_adaptive(False) is None
