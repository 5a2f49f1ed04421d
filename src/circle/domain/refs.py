"""Resolving what a person types (an id, a unique id prefix, an exact name)."""

from __future__ import annotations

from collections.abc import Iterable

from circle.errors import Ambiguous, NotFound

MIN_PREFIX = 4


def resolve(ref: str, candidates: Iterable[tuple[str, str]], what: str) -> str:
    """Pick the one candidate `(id, name)` that `ref` names.

    An exact id wins. Otherwise exact names and id prefixes (of at least
    MIN_PREFIX characters) are matched together and must agree on one: a name
    that looks like another item's id prefix is ambiguous, not a silent pick.
    """
    ref = ref.strip()
    pairs = list(candidates)
    if not ref:
        raise NotFound(f"no {what} given")
    for ident, _ in pairs:
        if ident == ref:
            return ident
    by_name = {i for i, name in pairs if name == ref}
    by_prefix = {i for i, _ in pairs if len(ref) >= MIN_PREFIX and i.startswith(ref.lower())}
    matches = by_name | by_prefix
    if len(matches) == 1:
        return matches.pop()
    if matches:
        shown = ", ".join(sorted(m[:12] for m in matches)[:5])
        raise Ambiguous(f"{what} {ref!r} matches {len(matches)}: {shown}; use a longer id")
    raise NotFound(f"unknown {what}: {ref!r}")
