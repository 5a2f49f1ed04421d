"""A real `circle relay` process on 127.0.0.1 with its own data directory, and the keys a
circle's organizer and members would hold for it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from circle.sync.relay_client import RelayMailbox, register
from tests.helpers.live import wait_until

LOOPBACK = "127.0.0.1"


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass
class Relay:
    data: Path
    logs: Path
    extra: tuple[str, ...] = ()
    proc: subprocess.Popen | None = None
    address: str = ""
    token: str = ""
    runs: int = 0

    def env(self) -> dict[str, str]:
        # No profile, no passphrase: the relay must need neither.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLE_")}
        return env | {"CIRCLE_HOME": str(self.logs / "no-such-profile")}

    def start(self) -> Relay:
        self.runs += 1
        out, err = self.out_path, self.err_path
        with open(out, "w") as out_file, open(err, "a") as err_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "circle", "relay", "--host", LOOPBACK, "--port", "0",
                 "--data", str(self.data), *self.extra],
                env=self.env(), stdin=subprocess.DEVNULL, stdout=out_file, stderr=err_file)
        proc = self.proc

        def ready():
            if proc.poll() is not None:
                raise AssertionError(f"relay exited early ({proc.returncode}): {err.read_text()}")
            text = out.read_text()
            port = re.search(r"relay listening on 127\.0\.0\.1:(\d+)\n", text)
            token = re.search(r"registration token: (\S+)\n", text)
            return port and token and (port.group(1), token.group(1))

        port, self.token = wait_until(ready, 30, "the relay to listen")
        self.address = f"{LOOPBACK}:{port}"
        return self

    @property
    def port(self) -> int:  # what tests/helpers/hostile_peer.py dials
        return int(self.address.rpartition(":")[2])

    @property
    def out_path(self) -> Path:
        return self.logs / f"relay{self.runs}.out"

    @property
    def err_path(self) -> Path:
        return self.logs / "relay.err"

    def stderr(self) -> str:
        return self.err_path.read_text()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def connections(self) -> int:
        """The live connection count the relay records, read straight from its database."""
        import sqlite3

        db = sqlite3.connect(self.data / "relay.db")
        try:
            row = db.execute("SELECT connections FROM live WHERE circle_id = x''").fetchone()
        finally:
            db.close()
        return row[0] if row else 0

    def status(self) -> dict:
        import json

        result = subprocess.run([sys.executable, "-m", "circle", "relay", "--status", "--data", str(self.data),
                                 "--json"], env=self.env(), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@dataclass
class CircleKeys:
    """What an organizer and a member hold for one circle at a relay."""

    circle_id: str = field(default_factory=lambda: secrets.token_hex(16))
    admin: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    access: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    device: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)

    def register(self, relay: Relay, *, token: str | None = "relay's", access: Ed25519PrivateKey | None = None,
                 admin: Ed25519PrivateKey | None = None) -> None:
        admin = admin or self.admin
        register(relay.address, self.circle_id, admin_pub=raw_public(admin), admin_sign=admin.sign,
                 access_pub=raw_public(access or self.access), token=relay.token if token == "relay's" else token,
                 static=self.device, timeout=15)

    def mailbox(self, relay: Relay, access: Ed25519PrivateKey | None = None) -> RelayMailbox:
        return RelayMailbox(relay.address, self.circle_id, access or self.access, static=self.device, timeout=15)
