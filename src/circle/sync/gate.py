"""The door of a listening server (`circle serve`, `circle relay`): opening the
port (`listen`, one line for every way that fails), how many connections it
holds, and which of them have not yet shown they belong.

A *stranger* is a connection that has not yet proved it is a member's device (or,
at a relay, opened a circle). When the server is full, the stranger that has
waited longest is closed to make room rather than the newcomer refused: a
member's handshake takes milliseconds, so a flood of idle connections can never
keep a member out. Only when every connection belongs is a newcomer refused.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from asyncio import StreamWriter
from collections.abc import Awaitable, Callable


async def listen(handle: Callable[[asyncio.StreamReader, StreamWriter], Awaitable[None]], host: str, port: int,
                 error: type[Exception], in_use: str = "") -> asyncio.base_events.Server:
    """Listen on host:port (0: any free port), or raise `error` with one line
    saying why not; `in_use` is added to the line for a port already taken."""
    if not 0 <= port <= 65535:
        raise error(f"cannot listen on port {port}: a port is a number from 0 to 65535")
    try:
        return await asyncio.start_server(handle, host, port)
    except socket.gaierror:
        raise error(f"cannot listen on {host!r}: no such host or address here") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise error(f"cannot listen on {host}:{port}: that port is already in use{in_use}") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise error(f"cannot listen on {host}: not an address of this device") from None
        raise error(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class Gate:
    def __init__(self, max_connections: int, max_strangers: int, log: logging.Logger) -> None:
        self.max_connections, self.max_strangers, self.log = max_connections, max_strangers, log
        self.open = 0
        self.refused = 0  # connections turned away at a limit
        self.evicted = 0  # strangers closed to make room
        self._strangers: dict[StreamWriter, None] = {}  # insertion order: the oldest first

    def enter(self, writer: StreamWriter) -> bool:
        """Let a new connection in as a stranger, making room if need be; False
        (the connection already closed) if every connection held belongs."""
        if self.open >= self.max_connections or len(self._strangers) >= self.max_strangers:
            if not self._strangers:
                self.refused += 1
                self.log.warning("turned a connection away: %d open (limit %d)", self.open, self.max_connections)
                writer.transport.abort()
                return False
            oldest = next(iter(self._strangers))
            del self._strangers[oldest]
            oldest.transport.abort()
            self.evicted += 1
            self.log.warning("too many connections that have not shown they belong (limit %d, %d open): "
                             "closed the oldest", self.max_strangers, self.open)
        self.open += 1
        self._strangers[writer] = None
        return True

    def belongs(self, writer: StreamWriter) -> None:
        """The connection has shown it belongs: it is never closed to make room."""
        self._strangers.pop(writer, None)

    def leave(self, writer: StreamWriter) -> None:
        self.open -= 1
        self._strangers.pop(writer, None)
