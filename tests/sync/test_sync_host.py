"""`SyncHost` (sync/host.py) is the whole interface between sync and the service:
the service has every method it lists, with a compatible signature, and the sync
package calls nothing on its host that the Protocol does not list."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import circle.sync
from circle.service import Service
from circle.sync.host import SyncHost

SYNC_DIR = Path(circle.sync.__file__).parent


def protocol_methods() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(value) for name, value in vars(SyncHost).items()
            if not name.startswith("_") and callable(value)}


def compatible(wanted: inspect.Signature, offered: inspect.Signature) -> str | None:
    """None if a caller of `wanted` can call `offered` the same way; else why not."""
    want = [p for p in wanted.parameters.values() if p.name != "self"]
    have = {p.name: p for p in offered.parameters.values() if p.name != "self"}
    positional = [p.name for p in offered.parameters.values()
                  if p.name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for index, param in enumerate(p for p in want if p.kind != p.KEYWORD_ONLY):
        if index >= len(positional) or positional[index] != param.name:
            return f"positional parameter {index} should be {param.name!r}"
    for param in want:
        other = have.get(param.name)
        if other is None:
            return f"no parameter {param.name!r}"
        if param.kind == param.KEYWORD_ONLY and other.kind not in (other.KEYWORD_ONLY, other.POSITIONAL_OR_KEYWORD):
            return f"{param.name!r} cannot be passed by keyword"
        if param.default is not param.empty and other.default is other.empty:
            return f"{param.name!r} has no default"
    extra = [p for name, p in have.items() if name not in {w.name for w in want}
             and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if extra:
        return f"required parameters the protocol does not pass: {[p.name for p in extra]}"
    return None


def test_the_service_has_every_method_of_the_sync_host_with_a_compatible_signature():
    methods = protocol_methods()
    assert len(methods) >= 13  # the walk found the Protocol's methods, not nothing
    problems = []
    for name, wanted in methods.items():
        offered = getattr(Service, name, None)
        if not callable(offered):
            problems.append(f"Service has no method {name}")
            continue
        why = compatible(wanted, inspect.signature(offered))
        if why:
            problems.append(f"Service.{name}: {why}")
    assert not problems, problems


def test_the_signature_check_notices_a_renamed_or_extra_required_parameter():
    def wanted(self, circle_id: str, *, remote_static: bytes | None = None): ...

    def renamed(self, circle: str, *, remote_static: bytes | None = None): ...

    def required_extra(self, circle_id: str, other: int, *, remote_static: bytes | None = None): ...

    def no_default(self, circle_id: str, *, remote_static: bytes | None): ...

    def fine(self, circle_id: str, more: int = 0, *, remote_static: bytes | None = None, x: int = 1): ...

    sig = inspect.signature
    assert compatible(sig(wanted), sig(renamed))
    assert compatible(sig(wanted), sig(required_extra))
    assert compatible(sig(wanted), sig(no_default))
    assert compatible(sig(wanted), sig(fine)) is None


def _attributes_of(tree: ast.AST, is_host) -> set[str]:
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and is_host(node.value)}


def _is_self_host(value: ast.expr) -> bool:
    return (isinstance(value, ast.Attribute) and value.attr == "host"
            and isinstance(value.value, ast.Name) and value.value.id == "self")


def host_calls() -> dict[str, set[str]]:
    """Every `self.host.NAME`, and `host.NAME` where `host` is a parameter typed
    SyncHost, in the sync package: NAME -> the files."""
    found: dict[str, set[str]] = {}
    for path in sorted(SYNC_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _attributes_of(tree, _is_self_host)
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    arg.arg == "host" and arg.annotation is not None and "SyncHost" in ast.unparse(arg.annotation)
                    for arg in function.args.args + function.args.kwonlyargs):
                names |= _attributes_of(function, lambda value: isinstance(value, ast.Name) and value.id == "host")
        for name in names:
            found.setdefault(name, set()).add(path.name)
    return found


def test_the_sync_package_calls_nothing_on_its_host_that_the_protocol_does_not_list():
    calls = host_calls()
    assert {"shared_circles", "receive_bundle", "refresh_all", "static_key"} <= set(calls)  # the walk works
    assert set(calls) - set(protocol_methods()) == set(), calls
