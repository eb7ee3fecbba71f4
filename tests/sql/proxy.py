"""A TCP forwarder between opsh and the test MariaDB that a test can freeze or cut.

    with Proxy(mariadb.host, mariadb.port) as proxy:
        url = f"mysql://...@127.0.0.1:{proxy.port}/db"
        proxy.freeze()   # bytes stop flowing both ways: the server looks silent
        proxy.thaw()
        proxy.cut()      # every connection is closed and new ones are refused (a server gone)
        proxy.slow_new_connections(0.3)   # each new connection waits before it reaches the server

Faults a real server cannot be asked for on cue (a silent peer, a network cut mid-statement).
"""

from __future__ import annotations

import selectors
import socket
import threading
from types import TracebackType


class Proxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self._frozen = threading.Event()
        self._connect_delay = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def slow_new_connections(self, seconds: float) -> None:
        self._connect_delay = seconds

    def freeze(self) -> None:
        self._frozen.set()

    def thaw(self) -> None:
        self._frozen.clear()

    def cut(self) -> None:
        """Close every connection and the listener: reconnecting is refused from now on."""
        self._stop.set()
        with self._lock:
            for sock in [self.listener, *self._sockets]:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self._stop.is_set():
            self.cut()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        if self._connect_delay:
            self._stop.wait(self._connect_delay)
        server = socket.create_connection(self.target)
        with self._lock:
            self._sockets += [client, server]
        self._pump(client, server)

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            while not self._stop.is_set():
                if self._frozen.is_set():
                    self._stop.wait(0.02)
                    continue
                for key, _ in selector.select(0.05):
                    try:
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            return self._close(client, server)
                        peers[key.fileobj].sendall(data)  # type: ignore[index]
                    except OSError:
                        return self._close(client, server)

    def _close(self, *socks: socket.socket) -> None:
        with self._lock:
            for sock in socks:
                if sock in self._sockets:
                    self._sockets.remove(sock)
                sock.close()
