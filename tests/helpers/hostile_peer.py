"""Speaking to a live `circle serve` as a hostile peer: raw frames, a real Noise handshake
as a stranger or as a member, and the server under attack (`Target`)."""

from __future__ import annotations

import random
import socket
import time
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.service import Service
from circle.sync.framing import PROLOGUE
from circle.sync.noise import MAX_MESSAGE, TAGLEN, CipherState, Handshake
from tests.helpers.cli import PASSPHRASE, Cli

LOOPBACK = "127.0.0.1"
CHUNK = MAX_MESSAGE - TAGLEN - 1  # plaintext bytes of a full chunk after the flag byte
NORMAL_END = "lost: connection closed"  # how the server logs a session whose peer hung up


@dataclass
class Target:
    a: Cli
    b: Cli
    circle: str
    proc: subprocess.Popen
    port: int
    err_path: Path

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def stderr(self) -> str:
        return self.err_path.read_text()


def frame(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def connect(target: Target) -> socket.socket:
    return socket.create_connection((LOOPBACK, target.port), timeout=10)


def recv_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        piece = sock.recv(count - len(data))
        if not piece:
            raise ConnectionError("closed")
        data += piece
    return data


def recv_frame(sock: socket.socket) -> bytes:
    return recv_exact(sock, int.from_bytes(recv_exact(sock, 2), "big"))


def closed_by_peer(sock: socket.socket, timeout: float = 15) -> bool:
    """True once the server has closed the connection (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionError:
        pass
    except TimeoutError:
        return False
    return True


@dataclass
class Noise:
    sock: socket.socket
    send_cs: CipherState
    recv_cs: CipherState
    remote_static: bytes
    handshake_hash: bytes = b""  # what a relay's proofs of access sign

    def send_plain(self, plain: bytes) -> None:
        self.sock.sendall(frame(self.send_cs.encrypt(b"", plain)))

    def send(self, message: bytes) -> None:
        self.send_plain(b"\x00" + message)

    def receive(self) -> bytes:
        plain = self.recv_cs.decrypt(b"", recv_frame(self.sock))
        assert plain[:1] == b"\x00"
        return plain[1:]


def noise(target: Target, static: X25519PrivateKey | None = None) -> Noise:
    sock = connect(target)
    hs = Handshake(True, static or X25519PrivateKey.generate(), PROLOGUE)
    sock.sendall(frame(hs.write()))
    hs.read(recv_frame(sock))
    sock.sendall(frame(hs.write()))
    send_cs, recv_cs = hs.transport()
    return Noise(sock, send_cs, recv_cs, hs.remote_static, hs.handshake_hash)


def member_static(target: Target) -> X25519PrivateKey:
    """B's device key: lets the test speak as an authenticated member."""
    service = Service.unlock(target.b.home, PASSPHRASE)
    try:
        return service.profile.identity.dh_key
    finally:
        service.close()


# -- attacks before the handshake completes, the same against `circle serve` and a relay ------


def send_garbage(target, seed: int) -> None:
    """Random bytes of a random length instead of a handshake."""
    rng = random.Random(seed)
    with connect(target) as sock:
        sock.sendall(rng.randbytes(rng.choice([1, 40, 3000])))
        time.sleep(0.1)


def truncated_handshake(target) -> None:
    """The first two handshake messages, then half of the third: its length promises more than ever comes."""
    with connect(target) as sock:
        hs = Handshake(True, X25519PrivateKey.generate(), PROLOGUE)
        sock.sendall(frame(hs.write()))
        hs.read(recv_frame(sock))
        third = frame(hs.write())
        sock.sendall(third[: len(third) // 2])
