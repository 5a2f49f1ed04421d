"""A loopback proxy that lets a join request through and cuts the welcome: an interrupted join.

Used by tests/sync/test_join_retry.py and by the soak (bench/soak_carriers.py).
"""

from __future__ import annotations

import socket
import threading

LOOPBACK = "127.0.0.1"
HANDSHAKE_BYTES = 512  # more than the Noise answer, less than any welcome


class WelcomeDroppingProxy:
    """Forwards to a loopback port; cuts both sides once the server sends more than the handshake."""

    def __init__(self, target_port: int) -> None:
        self.target = (LOOPBACK, target_port)
        self.listener = socket.create_server((LOOPBACK, 0))
        self.address = f"{LOOPBACK}:{self.listener.getsockname()[1]}"
        self.dropped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                return
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, [0]), daemon=True).start()

    def _pump(self, source, sink, counted) -> None:
        try:
            while data := source.recv(65536):
                if counted is not None:
                    counted[0] += len(data)
                    if counted[0] > HANDSHAKE_BYTES:
                        self.dropped.set()
                        break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.listener.close()
