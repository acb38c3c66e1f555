"""The one Registry type behind models, datasets and methods."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from suite.core.data.registry import DATASETS
from suite.core.models.registry import MODELS
from suite.builtins import METHODS
from suite.registry import Registry, UnknownNameError


@dataclass(frozen=True)
class Thing:
    name: str
    size: int = 0


def test_register_get_names_items() -> None:
    things = Registry("thing", [Thing("b", 2), Thing("a", 1)])
    extra = things.register(Thing("c", 3))
    assert extra == Thing("c", 3) and things.get("c") is extra
    assert things.names() == ["a", "b", "c"]
    assert things.items() == [("a", Thing("a", 1)), ("b", Thing("b", 2)), ("c", Thing("c", 3))]
    assert things.values() == [Thing("a", 1), Thing("b", 2), Thing("c", 3)]
    assert "a" in things and "z" not in things and ["a"] not in things
    assert list(things) == ["a", "b", "c"] and len(things) == 3 and things["b"].size == 2


def test_unknown_name_lists_what_is_allowed() -> None:
    things = Registry("thing", [Thing("b"), Thing("a")])
    with pytest.raises(UnknownNameError) as info:
        things.get("zebra")
    assert str(info.value) == "unknown thing 'zebra'; allowed: ['a', 'b']"
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    with pytest.raises(UnknownNameError, match=r"unknown thing \['a'\]"):
        things.get(["a"])  # type: ignore[arg-type]


def test_a_name_registers_once_and_must_be_a_string() -> None:
    things = Registry("thing", [Thing("a", 1)])
    with pytest.raises(ValueError, match="thing 'a' is already registered"):
        things.register(Thing("a", 2))
    assert things.get("a").size == 1
    with pytest.raises(ValueError, match="non-empty string name"):
        things.register(Thing(""))


@pytest.mark.parametrize("registry,kind", [(MODELS, "model"), (DATASETS, "dataset"), (METHODS, "method")])
def test_models_datasets_and_methods_share_the_registry(registry: Registry, kind: str) -> None:
    assert isinstance(registry, Registry) and registry.kind == kind and len(registry) > 0
    with pytest.raises(UnknownNameError, match=f"unknown {kind} 'nope'; allowed: "):
        registry.get("nope")
    for name, item in registry.items():
        assert item.name == name
