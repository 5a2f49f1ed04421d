"""The action ids keys.json may rebind, with their default keys: every binding id in
this package, found on the classes that declare them."""

from __future__ import annotations

from textual.binding import Binding
from textual.dom import DOMNode


def default_keys() -> dict[str, str]:
    """binding id -> its default keys ("f1", "plus,a"), sorted by id."""
    keys: dict[str, str] = {}
    stack: list[type] = [DOMNode]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("circle.tui."):
            for binding in cls.__dict__.get("BINDINGS", ()):
                if isinstance(binding, Binding) and binding.id:
                    keys.setdefault(binding.id, binding.key)
    return dict(sorted(keys.items()))


def known_binding_ids() -> set[str]:
    return set(default_keys())
