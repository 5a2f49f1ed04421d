"""App settings: `<profile home>/settings.json` and `<profile home>/keys.json`,
then environment variables (which win). Both files are optional; a broken one
is reported in the app and otherwise ignored.

settings.json (every key optional):
    {"listen": "127.0.0.1:0",       where sync listens; null: do not listen
     "discovery": true,             look for circle members on the LAN (mDNS)
     "peers": ["192.168.1.20:7654"], keep live sessions with these
     "theme": "circle-calm",
     "external_editor": false}      allow ctrl+e to open $EDITOR (see docs/tui.md)
Environment: CIRCLE_LISTEN, CIRCLE_DISCOVERY (0/1), CIRCLE_THEME, CIRCLE_EXTERNAL_EDITOR (0/1).

keys.json maps binding ids to keys, e.g. {"feed.compose": "p", "app.help": "f1,ctrl+h"}.

The settings screen changes them only through `save_setting` and `save_keys` here,
which keep whatever else the file holds.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from circle.errors import InvalidInput

DEFAULT_THEME = "circle-calm"
_KINDS: dict[str, type | tuple[type, ...]] = {
    "listen": (str, type(None)), "discovery": bool, "peers": list, "theme": str, "external_editor": bool}
# A key as Textual names it: "f1", "ctrl+h", "M" (shift+m), "exclamation_mark"; several comma-separated.
_KEYS = re.compile(r"[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*(,[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*)*")


@dataclass(frozen=True)
class Settings:
    listen: str | None = "127.0.0.1:0"
    discovery: bool = True
    peers: tuple[str, ...] = ()
    theme: str = DEFAULT_THEME
    external_editor: bool = False
    keymap: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def _read_json(path: Path, problems: list[str]) -> dict:
    try:
        value = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        problems.append(f"{path.name} ignored: {exc}")
        return {}
    if not isinstance(value, dict):
        problems.append(f"{path.name} ignored: it must hold a JSON object")
        return {}
    return value


def _flag(text: str) -> bool:
    return text.strip().lower() not in ("", "0", "false", "no", "off")


def load_settings(home: Path | None, environ: Mapping[str, str] = os.environ) -> Settings:
    problems: list[str] = []
    raw = _read_json(home / "settings.json", problems) if home else {}
    keys = _read_json(home / "keys.json", problems) if home else {}
    settings = Settings()
    for name, value in raw.items():
        if name not in _KINDS:
            problems.append(f"settings.json: unknown setting {name!r}")
        elif not isinstance(value, _KINDS[name]) or (name == "peers" and not all(isinstance(p, str) for p in value)):
            problems.append(f"settings.json: {name!r} has the wrong type")
        else:
            setting: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value}  # list: peers
            settings = replace(settings, **setting)
    keymap = {}
    for binding_id, value in keys.items():
        if isinstance(value, str) and value.strip():
            keymap[binding_id] = value.replace(" ", "")
        else:
            problems.append(f"keys.json: {binding_id!r} must map to keys like \"ctrl+h\"")
    if "CIRCLE_LISTEN" in environ:  # empty: do not listen
        settings = replace(settings, listen=environ["CIRCLE_LISTEN"].strip() or None)
    if environ.get("CIRCLE_THEME"):
        settings = replace(settings, theme=environ["CIRCLE_THEME"].strip())
    for name in ("discovery", "external_editor"):
        value = environ.get(f"CIRCLE_{name.upper()}")
        if value is not None:
            flag: dict[str, Any] = {name: _flag(value)}
            settings = replace(settings, **flag)
    return replace(settings, keymap=keymap, problems=tuple(problems))


def save_setting(home: Path, name: str, value: object) -> None:
    """Write one setting into settings.json, keeping the rest of the file."""
    if name not in _KINDS or not isinstance(value, _KINDS[name]):
        raise InvalidInput(f"settings.json has no setting {name!r} of that kind")
    _update(home / "settings.json", {name: value})


def save_keys(home: Path, binding_id: str, keys: str | None) -> None:
    """Bind `binding_id` to `keys` ("f3" or "ctrl+h,f1") in keys.json; None: back to the default."""
    if keys is not None:
        keys = keys.replace(" ", "")
        if not _KEYS.fullmatch(keys):
            raise InvalidInput(f"keys look like f3, ctrl+h or a,plus (comma between several), not {keys!r}")
    _update(home / "keys.json", {binding_id: keys})


def _update(path: Path, changes: dict[str, object]) -> None:
    problems: list[str] = []
    current = _read_json(path, problems)
    if problems:  # never overwrite a file someone is editing by hand and got wrong
        raise InvalidInput(f"{problems[0]}; fix or delete it first")
    for name, value in changes.items():
        if value is None and path.name == "keys.json":
            current.pop(name, None)
        else:
            current[name] = value
    temporary = path.with_name(f".{path.name}.new")
    try:
        temporary.write_text(json.dumps(current, indent=2) + "\n", "utf-8")
        os.replace(temporary, path)  # a crash leaves the old file or the new, never half of one
    except OSError as exc:
        raise InvalidInput(f"cannot write {path.name}: {exc.strerror}") from None
