"""Run an ASGI app with uvicorn in a background thread, on a loopback port chosen free.

The served app can be swapped while the server runs (:meth:`BackgroundServer.mount`): the
runner starts the webhook intake first, and the control room later plugs in an app that
serves its own routes and mounts the intake underneath, so both share one port.

uvicorn's own log lines (warnings and errors only) go to stderr one line each: an exception an
app let escape is logged as its type, message and innermost frame (:class:`OneLineFormatter`),
never as a traceback in the drill's output, and control characters from the network are escaped.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import traceback
from pathlib import Path

from gameday.errors import InfrastructureError


class OneLineFormatter(logging.Formatter):
    """A log record on one line: an exception as ``Type: message (at file.py:line)``, not a traceback;
    control characters (say, from a request line) escaped."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        exc_type, exc, tb = ei
        frames = traceback.extract_tb(tb)
        where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
        message = " ".join(str(exc).split())[:300]
        return f"{getattr(exc_type, '__name__', 'Exception')}: {message}{where}"

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        text = self.formatMessage(record).strip()
        if record.exc_info:
            text = f"{text.rstrip(':.')}: {self.formatException(record.exc_info)}"
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(text.splitlines()))


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"one_line": {"()": f"{__name__}.OneLineFormatter", "fmt": "web server %(levelname)s: %(message)s"}},
    "handlers": {"stderr": {"formatter": "one_line", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.error": {"level": "WARNING"},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}
"""uvicorn's logging: warnings and errors to stderr, one line each (:class:`OneLineFormatter`)."""


class _Switch:
    """An ASGI app forwarding to ``front`` when set, else to ``base``."""

    def __init__(self, base):
        self.base, self.front = base, None

    async def __call__(self, scope, receive, send):
        await (self.front or self.base)(scope, receive, send)


class BackgroundServer:
    """uvicorn serving ``app`` on ``host:port`` (port 0: any free one) in a daemon thread.

    The listening socket is bound when the object is made (so :attr:`url` is known and
    connections queue from then on). :meth:`stop` closes the listening socket at once (the
    port is free when it returns) and then either waits for uvicorn's graceful shutdown or,
    with ``wait=False``, lets it finish in the background (~0.1-0.2 s: uvicorn polls its exit
    flag and lets open connections close) without holding up the caller.
    """

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
        # ws="none": nothing here speaks WebSocket (the control room's live updates are SSE),
        # and it spares the wsproto/websockets import
        config = uvicorn.Config(self._switch, log_config=LOG_CONFIG, log_level="warning", access_log=False,
                                lifespan="off", backlog=2048,
                                timeout_keep_alive=30, timeout_graceful_shutdown=2, ws="none")
        self._server = _server_class()(config)
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
        while not self._server.ready.wait(0.01):  # returns as soon as uvicorn serves
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise InfrastructureError("the webhook server did not start")
        if not self._server.started:
            raise InfrastructureError("the webhook server did not start")
        return self

    def stop(self, timeout: float = 5.0, *, wait: bool = True) -> None:
        """Stop serving: the port is released when this returns.

        ``wait=False`` returns as soon as the listening socket is closed; uvicorn's graceful
        shutdown of open connections then finishes in its (daemon) thread.
        """
        server = self._server
        server.should_exit = True
        if self._thread.is_alive() and server.ready.is_set():
            server.wake()  # do not sit out uvicorn's 0.1 s poll of should_exit
            if not wait:
                server.listeners_closed.wait(timeout)
        if wait and self._thread.is_alive():
            self._thread.join(timeout)
        if wait or not self._thread.is_alive() or server.listeners_closed.is_set():
            self._sock.close()  # a no-op once uvicorn closed it


_SERVER_CLASS = None


def _server_class():
    """uvicorn.Server that says when it is ready and can be woken to stop (made once, on first use)."""
    global _SERVER_CLASS
    if _SERVER_CLASS is not None:
        return _SERVER_CLASS
    import asyncio

    import uvicorn

    class _Server(uvicorn.Server):
        def __init__(self, config):
            super().__init__(config)
            self.ready = threading.Event()  # set once serving (or once startup gave up)
            self.listeners_closed = threading.Event()
            self._loop = None
            self._wakeup = None

        async def startup(self, sockets=None) -> None:
            self._loop = asyncio.get_running_loop()
            self._wakeup = asyncio.Event()
            try:
                await super().startup(sockets=sockets)
            finally:
                self.ready.set()

        async def main_loop(self) -> None:
            # uvicorn's loop (a tick every 0.1 s), but a stop request ends the wait at once
            counter = 0
            should_exit = await self.on_tick(counter)
            while not should_exit:
                counter = (counter + 1) % 864000
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), 0.1)
                should_exit = await self.on_tick(counter)

        async def shutdown(self, sockets=None) -> None:
            self._close_listeners()
            await super().shutdown(sockets=sockets)

        def _close_listeners(self) -> None:
            try:
                for srv in getattr(self, "servers", []):
                    srv.close()  # stop accepting; closes the listening socket
            finally:
                self.listeners_closed.set()

        def wake(self) -> None:
            """From any thread: stop accepting now and end the main loop's wait."""
            loop = self._loop
            if loop is None:
                return

            def wake_up() -> None:
                self._close_listeners()
                if self._wakeup is not None:
                    self._wakeup.set()

            try:
                loop.call_soon_threadsafe(wake_up)
            except RuntimeError:  # the loop already closed: uvicorn is done
                self.listeners_closed.set()

    _SERVER_CLASS = _Server
    return _Server
