"""The crisis resources shipped with the package, so help works offline."""

from __future__ import annotations

import json
import locale
import os
from functools import cache
from importlib import resources

from circle.domain.models import CrisisResource


@cache
def _all() -> tuple[tuple[str, CrisisResource], ...]:
    raw = resources.files("circle").joinpath("data/crisis_resources.json").read_text("utf-8")
    return tuple(
        (entry["region"], CrisisResource(entry["name"], entry["contact"], entry["region"], entry["hours"]))
        for entry in json.loads(raw)["resources"]
    )


def region_from_locale(setting: str | None = None) -> str | None:
    """ISO country code from CIRCLE_REGION, else the profile's setting, else the
    locale (`en_GB.UTF-8` -> GB)."""
    explicit = os.environ.get("CIRCLE_REGION") or setting
    if explicit:
        return explicit.strip().upper()
    for value in (os.environ.get("LC_ALL"), os.environ.get("LANG"), locale.getlocale()[0]):
        if value and "_" in value:
            return value.split("_", 1)[1][:2].upper()
    return None


def builtin_resources(region: str | None) -> list[CrisisResource]:
    """Resources for `region` first, then the international ones.

    With no known region, every entry is listed: better too many than none.
    """
    entries = _all()
    if region is None:
        return [r for _, r in entries]
    local = [r for code, r in entries if code == region]
    international = [r for code, r in entries if code == "INT"]
    return local + international
