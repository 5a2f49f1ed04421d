"""Commands that reach other devices: serve, sync (TCP, a shared folder, relays), join, peers, relays."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from circle import export
from circle.cli.output import _done, _short, emit_json, safe, when
from circle.errors import InvalidInput, UsageError
from circle.service import Service


def cmd_serve(args, service: Service) -> int:
    import asyncio
    import logging
    import signal

    from circle.sync.logsafe import console
    from circle.sync.node import Node

    # Log lines carry peers' words (error texts, addresses): sanitized, one record a line.
    logging.basicConfig(level=logging.INFO, handlers=[console(sys.stderr, "circle serve: ")])

    async def serve() -> None:
        node = Node(service)
        host, port = await node.listen(args.host, args.port)  # SyncError: one line, exit 1
        if not args.no_discovery:
            problem = await node.announce(args.host, port)
            if problem is not None:  # no multicast here: sync by address still works
                logging.getLogger("circle.sync").warning("LAN discovery unavailable: %s", problem)
        for address in args.connect or ():
            node.dial(address)
        node.dial_known()  # the members this device reached before
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):  # before announcing: a stop right after is clean
            loop.add_signal_handler(signum, stop.set)
        _done(args, {"listening": f"{host}:{port}", "host": host, "port": port}, f"listening on {host}:{port}")
        sys.stdout.flush()
        runner = asyncio.create_task(node.run_forever())
        relays = asyncio.create_task(node.sync_relays_forever())
        await stop.wait()
        runner.cancel()
        relays.cancel()
        await node.close()

    asyncio.run(serve())
    return 0


def cmd_sync(args, service: Service) -> int:
    import asyncio

    from circle.sync.folder import BundleFolder, FolderError
    from circle.sync.node import Node

    if args.folder:
        try:
            report = service.sync_folder(BundleFolder(Path(args.folder)))
        except FolderError as exc:
            raise InvalidInput(str(exc)) from None
        if args.json:
            emit_json({"applied": report.applied, "refused": report.refused, "written": report.written,
                       "waiting": report.waiting, "problems": list(report.problems), "notes": list(report.notes)})
        else:
            print(f"read {report.applied} new items, wrote {report.written} bundles"
                  + (f", refused {report.refused} bad files" if report.refused else "")
                  + (f", {report.waiting} bundles wait for what has not arrived yet" if report.waiting else ""))
        for line in (*report.notes, *report.problems):
            print(f"circle: {safe(line)}", file=sys.stderr)
        return 1 if report.problems else 0
    if not args.address:
        return _sync_relays(args, service)
    circles = asyncio.run(Node(service).sync_once(args.address))
    if args.json:
        emit_json({"synced": circles})
    else:
        for circle_id in circles:
            print(f"synced {safe(service.info(circle_id).name)} ({_short(circle_id)})")
    return 0


def _sync_relays(args, service: Service) -> int:
    """`circle sync` with no address: once with every relay of every circle."""
    results = service.sync_relays()
    if not results:
        raise UsageError("no circle has a relay yet: give a peer HOST:PORT or --folder DIR "
                         "(organizers add a relay with `circle relays CIRCLE --add HOST:PORT`)")
    failed = [r for r in results if r.status != "synced"]
    if args.json:
        emit_json([{"circle": r.circle_id, "relay": r.address, "status": r.status,
                    "applied": r.report.applied if r.report else 0,
                    "written": r.report.written if r.report else 0} for r in results])
    for r in results:
        where = f"{safe(service.info(r.circle_id).name)} ({_short(r.circle_id)}) via {safe(r.address)}"
        if r.status != "synced":
            print(f"circle: {where}: {safe(r.status)}", file=sys.stderr)
        elif not args.json and r.report is not None:
            print(f"synced {where}: read {r.report.applied} new items, wrote {r.report.written} bundles")
        if r.report is not None:
            for line in (*r.report.notes, *r.report.problems):
                print(f"circle: {safe(line)}", file=sys.stderr)
    return 1 if failed else 0


def cmd_relays(args, service: Service) -> int:
    circle = service.resolve_circle(args.circle)
    if args.add and args.remove:
        raise UsageError("give --add or --remove, not both")
    if args.add:
        info = service.add_relay(circle, args.add, token=args.token)
        _done(args, {"circle": circle, "relay": info.address, "key": info.key}, f"added relay {safe(info.address)}")
        return 0
    if args.remove:
        service.remove_relay(circle, args.remove)
        _done(args, {"circle": circle, "relay": args.remove, "removed": True}, f"removed relay {safe(args.remove)}")
        return 0
    relays = service.relays(circle)
    if args.json:
        emit_json([{"address": r.address, "key": r.key} for r in relays])
        return 0
    for r in relays:
        print(safe(f"{r.address}  key {r.key[:16]}"))
    if not relays:
        print("no relays yet: an organizer adds one with `circle relays CIRCLE --add HOST:PORT --token TOKEN`")
    return 0


WAITING = ("waiting at the relay for a member to come online "
           "(Ctrl-C to stop; run the same command again to keep waiting)")


def cmd_join(args, service: Service) -> int:
    import asyncio

    from circle.cli.inputs import parse_duration
    from circle.crypto.invite_code import InviteCodeError
    from circle.sync.node import JoinFailed, Node, join_addresses, join_relays

    try:
        peers, relays = join_addresses(args.code, args.peer), join_relays(args.code)
    except InviteCodeError as exc:
        raise InvalidInput(str(exc)) from None
    if not peers and not relays:
        raise UsageError("the invite has no address hints: give one with --peer HOST:PORT")
    wait = parse_duration(args.wait).total_seconds()
    node = Node(service)

    async def join_and_sync() -> tuple[str, str]:
        if peers:
            try:
                joined = await node.join(args.code, peers)  # JoinFailed: every address's failure, one line
            except JoinFailed:
                if not relays:
                    raise
            else:
                await node.sync_once(joined.address)
                return joined.circle_id, joined.address
        # No member answered: leave the request at the circle's relays and wait there.
        waited = await node.join_through_relays(args.code, relays, wait=wait,
                                                waiting=lambda _: print(WAITING, file=sys.stderr,
                                                                        flush=True))
        for result in service.sync_relays([waited.circle_id], only=[waited.address]):
            if result.status != "synced":  # joined all the same: the next sync catches up
                print(f"circle: joined, but syncing via {safe(result.address)} failed: {safe(result.status)}",
                      file=sys.stderr)
        return waited.circle_id, waited.address

    circle_id, address = asyncio.run(join_and_sync())
    pending = service.guidelines_pending(circle_id)
    _done(args, {"circle": circle_id, "name": service.info(circle_id).name, "peer": address,
                 "guidelines_pending": pending}, circle_id)
    if pending:
        print(f"circle: read the circle's guidelines (`circle guidelines {circle_id[:8]}`) and accept them "
              f"(`--accept`) before posting", file=sys.stderr)
    return 0


def cmd_peers(args, service: Service) -> int:
    if args.add or args.forget:
        if args.circle:
            raise UsageError("--add and --forget are for this device, not one circle: leave out CIRCLE")
        if args.add:
            address = service.add_peer(args.add)
            print(safe(f"added {address}: `circle serve` and the app dial it from now on"))
        else:
            service.forget_peer(args.forget)
            print(safe(f"forgot {args.forget}: it is no longer dialled"))
        return 0
    if not args.circle:
        added = set(service.added_peers())
        dialled = [{"address": a, "added": a in added} for a in service.known_addresses()]
        if args.json:
            emit_json(dialled)
            return 0
        for d in dialled:
            print(safe(f"{d['address']}  {'added by you' if d['added'] else 'synced before'}"))
        if not dialled:
            print("no peers to dial: `circle peers --add HOST:PORT`, or sync with one once")
        return 0
    circle = service.resolve_circle(args.circle)
    peers = service.peers(circle)
    records = [export.peer_record(p) for p in peers]
    if args.json:
        emit_json(records)
        return 0
    for r in records:
        status = "" if r["active"] else "  (no longer a member)"
        who = r["name"] or r["member_id"][:8]
        print(safe(f"{who}  {r['address']}  last contact {when(r['last_contact'])}{status}"))
    if not records:
        print("no peers yet: sync with `circle sync HOST:PORT` or run `circle serve`")
    return 0


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Adds serve, sync, join, peers and relays to the parser."""
    p = command("serve", cmd_serve, "listen and sync every circle with peers that connect")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7654, help="port (default 7654; 0 picks a free one)")
    p.add_argument("--connect", action="append", metavar="HOST:PORT",
                   help="also keep a live session with this peer (repeatable)")
    p.add_argument("--no-discovery", action="store_true", help="do not advertise or look for peers on the LAN")
    p = command("sync", cmd_sync, "sync once with a peer, a shared folder, or (with neither) every circle's relays")
    p.add_argument("address", metavar="HOST:PORT", nargs="?")
    p.add_argument("--folder", metavar="DIR", help="exchange bundles through a shared folder instead")
    p = command("join", cmd_join, "join a circle with an invite code; prints the circle id")
    p.add_argument("code")
    p.add_argument("--peer", metavar="HOST:PORT", help="a member's address (else the code's hints)")
    p.add_argument("--wait", default="10m", metavar="DURATION",
                   help="how long to wait at the code's relays for a member (default 10m; e.g. 30m, 2h)")
    p = command("peers", cmd_peers, "the addresses this device dials; with CIRCLE, who it synced that circle with")
    p.add_argument("circle", nargs="?")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--add", metavar="HOST:PORT", help="dial this member's address from now on")
    what.add_argument("--forget", metavar="HOST:PORT", help="stop dialling this address")
    p = command("relays", cmd_relays, "the circle's relays; organizers add and remove them")
    p.add_argument("circle")
    p.add_argument("--add", metavar="HOST:PORT", help="register the circle at this relay and list it")
    p.add_argument("--token", help="the relay's registration token (`circle relay --status` on the relay)")
    p.add_argument("--remove", metavar="HOST:PORT", help="stop listing this relay")
