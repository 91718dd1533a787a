"""uvicorn's HTTP/1.1 protocol (h11) with a read timeout on request headers and a hard cap on
connections, which uvicorn lacks.

uvicorn times out a connection that idles between requests (``timeout_keep_alive``) and answers
503 past ``limit_concurrency``, but a connection that sends half a request's headers and waits
(slowloris) is kept forever, and every one holds a file descriptor: a thousand of them and no
new client is accepted.  Here the headers of each request must be complete within
``HEADER_SECONDS`` of the connection opening (or of the previous response, on a kept-alive
connection), else the connection is closed; and a connection past ``limit_concurrency`` is
answered 503 and closed at once, before it reads anything.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
        b"connection: close\r\ncontent-length: 40\r\n\r\n"
        b"the server has too many connections open")


class GuardedH11Protocol(H11Protocol):
    """:class:`H11Protocol` with the header timeout and the connection cap (module docstring)."""

    header_seconds = HEADER_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.header_timer: asyncio.TimerHandle | None = None
        cap = self.limit_concurrency
        if cap is not None and len(self.connections) > cap:
            transport.write(BUSY)
            transport.close()
            return
        self._await_headers()

    def _await_headers(self) -> None:
        if self.header_timer is None:
            self.header_timer = self.loop.call_later(self.header_seconds, self._headers_late)

    def _headers_done(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_late(self) -> None:
        self.header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # the client is still sending a request's headers while h11 waits for them (IDLE);
        # the clock runs from the first byte after the last response, not from the last byte
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._await_headers()
        else:
            self._headers_done()

    def on_response_complete(self) -> None:
        self._headers_done()  # the keep-alive timeout covers the idle time that follows
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        super().connection_lost(exc)
