"""Checking a peer address someone typed (`HOST:PORT`, IPv6 as `[ADDR]:PORT`).

An invite code carries its address hints to another person's machine, so a
malformed hint is refused where it is typed, with the reason, rather than
failing later and far away as "cannot reach".
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from circle.errors import InvalidInput

_PORT = re.compile(r"[0-9]{1,5}")
_BRACKETED = re.compile(r"\[([^\]]*)\]:(.*)", re.DOTALL)
_HOST_PUNCTUATION = set("[]/\\@?#%,;:'\"<>`")
_FORM = "use HOST:PORT, e.g. 127.0.0.1:7000, host.local:7000 or [::1]:7000"


def peer_address(text: str) -> str:
    """`text` unchanged if it is a usable HOST:PORT address; else InvalidInput saying why.

    The host must be non-empty, without spaces, control or format characters;
    an IPv6 address must be in brackets; the port is an integer 1 to 65535.
    """
    def bad(why: str) -> InvalidInput:
        return InvalidInput(f"not a peer address: {text!r} ({why}; {_FORM})")

    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in text):
        raise bad("it has spaces or control characters")
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        host, port = bracketed.groups()
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad("the part in brackets is not an IPv6 address") from None
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            raise bad("no port")
        if ":" in host:
            raise bad("an IPv6 address goes in brackets")
        if not host:
            raise bad("no host")
        if _HOST_PUNCTUATION & set(host) or host.startswith(("-", ".")) or ".." in host:
            raise bad("the host is not a name or an address")
        if re.fullmatch(r"[0-9.]+", host):
            try:
                ipaddress.IPv4Address(host)
            except ValueError:
                raise bad("the host is not an IPv4 address") from None
    if not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
        raise bad("the port must be a number from 1 to 65535")
    return text
