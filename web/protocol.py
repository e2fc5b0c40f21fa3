"""uvicorn's HTTP protocol with a deadline on each request's headers (slow-header connections, "slowloris").

uvicorn bounds an idle keep-alive connection, but not one that sends its request line
and headers a byte at a time: each such connection would hold a socket and a file
descriptor for as long as the client likes. Here the headers of every request must be
complete within the deadline, counted from the connection (or the request's first
byte on a kept-alive one); else the server answers 408 and closes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from errors import http_error_body


def _late_answer(timeout_s: float) -> bytes:
    body = json.dumps(http_error_body(408, f"the request's headers did not arrive within {timeout_s:g} s")).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def header_deadline_protocol(timeout_s: float) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's `http=`, with headers due within `timeout_s`."""

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(timeout_s, self._headers_late)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _headers_late(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.write(_late_answer(timeout_s))
                self.transport.close()

    return HeaderDeadlineProtocol
