"""A device's side of a blind relay: `RelayMailbox` (the Mailbox of one circle at one relay,
and its join area as members see it), `register` (the organizer binding a circle, or a
new access key, at a relay), and `leave_join_request` / `fetch_join_answer` (a newcomer).

Mailbox callers are synchronous (service/mailbox_sync.py), so the connection
runs on a private event loop in a daemon thread and each call waits for its
one request there; that also works from a thread while another loop runs.
Every failure is a MailboxError whose text is one line (or UnreadableBundle
for one name); a relay's refusal reads "relay refused: <reason>".
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.domain.untrusted import shown
from circle.errors import CircleError
from circle.sync import relay_wire as w
from circle.sync.address import peer_address
from circle.sync.folder import SUFFIX
from circle.sync.framing import MAX_MESSAGE_BYTES, ConnectionDropped, SecureStream
from circle.sync.mailbox import MailboxError, MailboxId, UnreadableBundle
from circle.sync.tcp import parse_address

# The folder's names: a bundle seen in a folder is the same bundle at a relay (mailbox_sync.py).
_NAME = re.compile(r"([0-9a-f]{64})" + re.escape(SUFFIX))


def _raw_public(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _circle_bytes(circle_id: str) -> bytes:
    if not re.fullmatch(r"[0-9a-f]{32}", circle_id):
        raise MailboxError(f"not a circle id: {circle_id!r}")
    return bytes.fromhex(circle_id)


class _Connection:
    """One Noise session with a relay, driven from synchronous code."""

    def __init__(self, address: str, static: X25519PrivateKey, timeout: float) -> None:
        try:
            self.address = peer_address(address)
        except CircleError as exc:
            raise MailboxError(str(exc)) from None
        self.static, self.timeout = static, timeout
        self.stream: SecureStream | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="circle-relay-client", daemon=True)
        self._thread.start()

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, self.timeout), self._loop)
        try:
            return future.result()
        except asyncio.TimeoutError:
            raise MailboxError(f"relay {self.address} stopped answering") from None

    def open(self) -> SecureStream:
        try:
            self.stream = self._run(self._connect())
        except BaseException:
            self.close()
            raise
        return self.stream

    async def _connect(self) -> SecureStream:
        host, port = parse_address(self.address)
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            raise MailboxError(f"cannot reach relay {self.address}: {exc.strerror or exc}") from None
        try:
            return await SecureStream.connect(reader, writer, self.static, initiator=True)
        except ConnectionDropped as exc:
            writer.close()
            raise MailboxError(f"relay {self.address} did not complete a secure handshake: {exc}") from None

    def ask(self, message: bytes) -> tuple[int, Any]:
        """Send one request and return the answer; a refusal raises MailboxError."""
        kind, value = self._run(self._ask(message))
        if kind == w.REFUSED:
            raise MailboxError(f"relay refused: {shown(value, limit=200)}")
        return kind, value

    async def _ask(self, message: bytes) -> tuple[int, Any]:
        if self.stream is None:
            raise MailboxError(f"relay {self.address}: not connected")
        try:
            await self.stream.send(message)
            return w.decode_answer(await self.stream.receive(self.timeout))
        except ConnectionDropped as exc:
            raise MailboxError(f"relay {self.address}: connection lost ({exc})") from None
        except w.RelayWireError as exc:
            raise MailboxError(f"relay {self.address} sent something that is not a relay answer ({exc})") from None

    def close(self) -> None:
        if self._loop.is_closed():
            return
        if self.stream is not None:
            try:
                self._run(self.stream.close())
            except MailboxError:
                pass  # closing anyway
            self.stream = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _expect(kind: int, wanted: int, address: str) -> None:
    if kind != wanted:
        raise MailboxError(f"relay {address} answered with something else")


class RelayMailbox:
    """The Mailbox of one circle at one relay (sync/mailbox.py): connect with `with`."""

    def __init__(self, address: str, circle_id: str, access: Ed25519PrivateKey, *,
                 static: X25519PrivateKey, timeout: float = 30.0) -> None:
        self.address, self.circle_id, self.access = address, circle_id, access
        self.static, self.timeout = static, timeout
        self._connection: _Connection | None = None

    def __enter__(self) -> RelayMailbox:
        circle = _circle_bytes(self.circle_id)
        connection = _Connection(self.address, self.static, self.timeout)
        stream = connection.open()
        try:
            access_pub = _raw_public(self.access)
            signature = self.access.sign(w.open_signed(stream.handshake_hash, circle, access_pub))
            kind, _ = connection.ask(w.encode_open(w.Open(circle, access_pub, signature)))
            _expect(kind, w.OK, connection.address)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return self

    def __exit__(self, *exc) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _open(self) -> _Connection:
        if self._connection is None:
            raise MailboxError(f"relay {self.address}: not connected (use `with`)")
        return self._connection

    def clean_up(self, now: float) -> None:
        """Nothing to do: the relay writes each bundle in one transaction."""

    def names(self) -> list[str]:
        connection = self._open()
        kind, digests = connection.ask(w.encode_list())
        _expect(kind, w.NAMES, connection.address)
        return [digest.hex() + SUFFIX for digest in digests]

    def read(self, name: str) -> bytes:
        match = _NAME.fullmatch(name)
        if match is None:
            raise UnreadableBundle("is not a bundle name")
        connection = self._open()
        try:
            kind, data = connection.ask(w.encode_get(bytes.fromhex(match.group(1))))
        except MailboxError as exc:
            if str(exc).startswith("relay refused:"):
                raise UnreadableBundle(f"is not at the relay ({exc})") from None
            raise
        _expect(kind, w.DATA, connection.address)
        if hashlib.sha256(data).hexdigest() != match.group(1):
            raise UnreadableBundle("does not match its name (the relay sent other bytes)")
        return data

    def put(self, data: bytes) -> str:
        if len(data) + 1 > MAX_MESSAGE_BYTES:
            raise MailboxError(f"relay refused: bundle too large (over {MAX_MESSAGE_BYTES // (1024 * 1024)} MiB)")
        connection = self._open()
        kind, digest = connection.ask(w.encode_put(data))
        _expect(kind, w.STORED, connection.address)
        if digest != hashlib.sha256(data).digest():
            raise MailboxError(f"relay {connection.address} acknowledged another bundle than the one sent")
        return digest.hex() + SUFFIX

    def join_requests(self) -> list[w.JoinRequest]:
        """The circle's unanswered join requests (needs the current access key)."""
        connection = self._open()
        kind, requests = connection.ask(w.encode_join_list())
        _expect(kind, w.JOIN_REQUESTS, connection.address)
        return requests

    def answer_join(self, request_id: bytes, sealed: bytes) -> None:
        """Leave the answer to one request; MailboxError("relay refused: ...") if the
        relay will not keep it (answered already, expired, over quota)."""
        if len(sealed) + 1 + w.DIGEST_BYTES > MAX_MESSAGE_BYTES:
            raise MailboxError("relay refused: join answer too large")
        connection = self._open()
        kind, _ = connection.ask(w.encode_join_answer(w.JoinAnswer(request_id, sealed)))
        _expect(kind, w.OK, connection.address)

    def mailbox_id(self) -> MailboxId:
        connection = self._open()
        if connection.stream is None:
            raise MailboxError(f"relay {self.address}: not connected")
        return MailboxId(f"relay:{connection.stream.remote_static.hex()}:{self.circle_id}")


def register(address: str, circle_id: str, *, admin_pub: bytes, admin_sign: Callable[[bytes], bytes],
             access_pub: bytes, token: str | None, static: X25519PrivateKey, timeout: float = 30.0) -> None:
    """Bind `circle_id` to `admin_pub` and `access_pub` at the relay (a circle it does
    not know needs its `token`), or, for a known circle and the same admin key, make
    `access_pub` the current access key. MailboxError("relay refused: ...") on refusal."""
    circle = _circle_bytes(circle_id)
    token_bytes = (token or "").strip().encode()
    if len(token_bytes) > w.MAX_TOKEN_BYTES:
        raise MailboxError("not a relay registration token (too long)")
    if len(admin_pub) != w.KEY_BYTES or len(access_pub) != w.KEY_BYTES:
        raise MailboxError("an admin or access key is not 32 bytes")
    connection = _Connection(address, static, timeout)
    stream = connection.open()
    try:
        signature = admin_sign(w.register_signed(stream.handshake_hash, circle, admin_pub, access_pub, token_bytes))
        kind, _ = connection.ask(w.encode_register(w.Register(circle, admin_pub, access_pub, token_bytes, signature)))
        _expect(kind, w.OK, connection.address)
    finally:
        connection.close()


def _stranger_ask(address: str, message: bytes, static: X25519PrivateKey, timeout: float) -> tuple[int, Any]:
    """One request on a connection that opens no circle."""
    connection = _Connection(address, static, timeout)
    connection.open()
    try:
        return connection.ask(message)
    finally:
        connection.close()


def leave_join_request(address: str, circle_id: str, area_id: bytes, request_id: bytes, sealed: bytes, *,
                       static: X25519PrivateKey, timeout: float = 30.0) -> None:
    """Leave a sealed join request in the circle's join area at the relay (kept
    once: leaving the same request id again changes nothing)."""
    if not 0 < len(sealed) <= w.MAX_JOIN_REQUEST_BYTES:
        raise MailboxError("the join request is too large for a relay")
    message = w.encode_join_put(w.JoinPut(_circle_bytes(circle_id), area_id, request_id, sealed))
    kind, stored = _stranger_ask(address, message, static, timeout)
    _expect(kind, w.STORED, address)
    if stored != request_id:
        raise MailboxError(f"relay {address} acknowledged another join request than the one sent")


def fetch_join_answer(address: str, circle_id: str, request_id: bytes, *, static: X25519PrivateKey,
                      timeout: float = 30.0) -> bytes | None:
    """The sealed answer to our request, or None while no member has answered.
    MailboxError("relay refused: no such join request ...") once it has expired."""
    kind, value = _stranger_ask(address, w.encode_join_fetch(w.JoinFetch(_circle_bytes(circle_id), request_id)),
                                static, timeout)
    if kind == w.WAITING:
        return None
    _expect(kind, w.DATA, address)
    return value
