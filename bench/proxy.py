"""A tiny TCP proxy on 127.0.0.1 that counts every byte it forwards.

Peers dial the proxy's port instead of each other's, so the counts are the real
bytes on the sockets: Noise handshake, framing, tags, protocol messages and
bundles, both directions. Loopback only.
"""

from __future__ import annotations

import socket
import threading

LOOPBACK = "127.0.0.1"


class CountingProxy:
    def __init__(self, target_port: int, target_host: str = LOOPBACK) -> None:
        if target_host != LOOPBACK:
            raise ValueError("the bench proxies loopback only")
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.address = f"{LOOPBACK}:{self.port}"
        self._lock = threading.Lock()
        self.bytes_to_target = 0  # client -> server
        self.bytes_from_target = 0  # server -> client
        self.connections = 0
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True, name=f"proxy:{self.port}").start()

    @property
    def total(self) -> int:
        with self._lock:
            return self.bytes_to_target + self.bytes_from_target

    def reset(self) -> None:
        with self._lock:
            self.bytes_to_target = self.bytes_from_target = self.connections = 0

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, to_target: bool) -> None:
        try:
            while True:
                data = source.recv(262144)
                if not data:
                    sink.shutdown(socket.SHUT_WR)  # pass the half-close on
                    return
                with self._lock:
                    if to_target:
                        self.bytes_to_target += len(data)
                    else:
                        self.bytes_from_target += len(data)
                sink.sendall(data)
        except OSError:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed = True
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.close()
            except OSError:
                pass
