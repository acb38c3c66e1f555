"""One registry type for everything chosen by name: models, datasets, methods, report tables and figures.

A `Registry` maps names to items (each item carries its own `name`). Lookups of
an unknown name raise `UnknownNameError` whose message lists what is allowed,
so a typo in a spec, a flag or a test reads the same everywhere:
"unknown model 'lenet9000'; allowed: ['lenet300', 'lenet5', ...]".

Built-in items are listed explicitly where the registry is made (e.g.
`suite/methods/__init__.py`); plugins add theirs with `register`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    name: str


Item = TypeVar("Item", bound=Named)


class UnknownNameError(ValueError, KeyError):
    """An unknown name; the message lists the registered names.

    Subclasses both ValueError (a bad argument) and KeyError (a failed lookup),
    so callers can catch either.
    """

    def __str__(self) -> str:
        # KeyError.__str__ would repr-quote the message; show it plainly.
        return str(self.args[0]) if self.args else ""


class Registry(Generic[Item]):
    """Named items of one kind ("model", "dataset", "method"), looked up by name."""

    def __init__(self, kind: str, items: Iterable[Item] = ()) -> None:
        self.kind = kind
        self._items: dict[str, Item] = {}
        for item in items:
            self.register(item)

    def register(self, item: Item) -> Item:
        """Add `item` under `item.name`; a name registered twice is an error."""
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} needs a non-empty string name, got {name!r}")
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def get(self, name: str) -> Item:
        """The item called `name`; `UnknownNameError` listing the allowed names if none is."""
        try:
            return self._items[name]
        except (KeyError, TypeError):  # TypeError: an unhashable name, e.g. a list from YAML
            raise UnknownNameError(f"unknown {self.kind} {name!r}; allowed: {self.names()}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def items(self) -> list[tuple[str, Item]]:
        """(name, item) pairs, sorted by name."""
        return [(name, self._items[name]) for name in self.names()]

    def values(self) -> list[Item]:
        """The items, sorted by name."""
        return [self._items[name] for name in self.names()]

    def in_registration_order(self) -> list[Item]:
        """The items in the order they were registered (the built-ins as listed, then plugins'): for lists
        whose order means something, e.g. the tables of a report."""
        return list(self._items.values())

    def __getitem__(self, name: str) -> Item:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._items
        except TypeError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
