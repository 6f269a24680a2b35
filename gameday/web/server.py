"""Run an ASGI app with uvicorn in a background thread, on a loopback port chosen free.

The served app can be swapped while the server runs (:meth:`BackgroundServer.mount`): the
runner starts the webhook intake first, and the control room later plugs in an app that
serves its own routes and mounts the intake underneath, so both share one port.
"""

from __future__ import annotations

import socket
import threading
import time

from gameday.errors import InfrastructureError


class _Switch:
    """An ASGI app forwarding to ``front`` when set, else to ``base``."""

    def __init__(self, base):
        self.base, self.front = base, None

    async def __call__(self, scope, receive, send):
        await (self.front or self.base)(scope, receive, send)


class BackgroundServer:
    """uvicorn serving ``app`` on ``host:port`` (port 0: any free one) in a daemon thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # inherited by accepted sockets: without it each keep-alive delivery stalls ~40 ms (Nagle + delayed ACK)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise InfrastructureError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self._sock.listen(2048)
        self.host, self.port = self._sock.getsockname()[:2]
        self.base_app = app
        self._switch = _Switch(app)
        config = uvicorn.Config(self._switch, log_level="warning", access_log=False, lifespan="off", backlog=2048,
                                timeout_keep_alive=30, timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True,
                                        name="uvicorn")

    def mount(self, app) -> None:
        """Serve ``app`` from now on (it should mount :attr:`base_app` to keep serving it)."""
        self._switch.front = app

    def unmount(self) -> None:
        self._switch.front = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise InfrastructureError("the webhook server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()
