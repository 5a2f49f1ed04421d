"""Resolving what a person types (an id, a unique id prefix, an exact name)."""

from __future__ import annotations

from collections.abc import Iterable

from circle.errors import Ambiguous, NotFound

MIN_PREFIX = 4


def resolve(ref: str, candidates: Iterable[tuple[str, str]], what: str) -> str:
    """Pick the one candidate `(id, name)` that `ref` names.

    An exact id wins; then a unique exact name; then a unique id prefix of at
    least MIN_PREFIX characters.
    """
    ref = ref.strip()
    pairs = list(candidates)
    if not ref:
        raise NotFound(f"no {what} given")
    for ident, _ in pairs:
        if ident == ref:
            return ident
    for matches, how in (
        ([i for i, name in pairs if name == ref], "name"),
        ([i for i, _ in pairs if len(ref) >= MIN_PREFIX and i.startswith(ref.lower())], "id prefix"),
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            shown = ", ".join(sorted(m[:12] for m in matches)[:5])
            raise Ambiguous(f"{what} {how} {ref!r} matches {len(matches)}: {shown}; use a longer id")
    raise NotFound(f"unknown {what}: {ref!r}")
