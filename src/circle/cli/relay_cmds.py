"""`circle relay`: run a blind relay, or report on one. Needs no profile and no passphrase."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from circle.cli.output import _done, emit_json

MIB = 1024 * 1024


def _data_dir(args) -> Path:
    if args.data:
        return Path(args.data).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("circle-relay", appauthor=False))


def cmd_relay(args, _home: Path) -> int:
    if args.status:
        return _status(args)
    import asyncio
    import logging
    import signal

    from circle.relay.data import open_data
    from circle.relay.server import Limits, RelayServer
    from circle.relay.store import RelayStore
    from circle.sync.logsafe import console

    logging.basicConfig(level=logging.INFO, handlers=[console(sys.stderr, "circle relay: ")])
    data = open_data(_data_dir(args))
    limits = Limits(max_bytes=args.max_bytes, max_bundles=args.max_bundles,
                    max_circle_connections=args.max_circle_connections, max_connections=args.max_connections)
    store = RelayStore(data.db_path)

    async def serve() -> None:
        server = RelayServer(store, data.static, data.token, limits)
        host, port = await server.start(args.host, args.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        _done(args, {"listening": f"{host}:{port}", "host": host, "port": port, "token": data.token,
                     "key": data.public_hex}, f"relay listening on {host}:{port}\nregistration token: {data.token}")
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            await server.close()

    try:
        asyncio.run(serve())
    finally:
        store.close()
    return 0


def _status(args) -> int:
    from circle.relay.data import existing_data
    from circle.relay.store import RelayStore

    data = existing_data(_data_dir(args))
    store = RelayStore(data.db_path)
    try:
        totals, circles = store.totals(), store.per_circle()
    finally:
        store.close()
    if args.json:
        emit_json({"circles": totals.circles, "bundles": totals.bundles, "bytes": totals.bytes,
                   "connections": totals.connections, "token": data.token, "key": data.public_hex,
                   "per_circle": [{"circle": c, "bundles": b, "bytes": n, "connections": k}
                                  for c, b, n, k in circles]})
        return 0
    print(f"circles: {totals.circles}  bundles: {totals.bundles}  bytes: {totals.bytes}  "
          f"connections: {totals.connections}")
    print(f"registration token: {data.token}")
    print(f"relay key: {data.public_hex}")
    for circle, bundles, size, live in circles:
        print(f"  {circle}  {bundles} bundles  {size} bytes  {live} connections")
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds relay to the parser."""
    p = command("relay", cmd_relay, "run a blind relay that stores sealed bundles for circles (no profile needed)",
                unlocked=False)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7655, help="port (default 7655; 0 picks a free one)")
    p.add_argument("--data", metavar="DIR", help="the relay's data directory (default: the user data dir)")
    p.add_argument("--status", action="store_true", help="print circles, bundles, bytes and connections; exit")
    p.add_argument("--max-bytes", type=int, default=256 * MIB, metavar="N", help="bytes per circle (default 256 MiB)")
    p.add_argument("--max-bundles", type=int, default=100_000, metavar="N", help="bundles per circle")
    p.add_argument("--max-circle-connections", type=int, default=32, metavar="N",
                   help="connections open at once per circle (default 32)")
    p.add_argument("--max-connections", type=int, default=256, metavar="N",
                   help="connections open at once in all (default 256)")
