"""ASGI middleware at the edge: the Host check, and bounds on a request's body size, body time and total time.

A slow client cannot hold memory or a worker: the body must arrive within
BODY_TIMEOUT_S (else 408) and the answer start within REQUEST_TIMEOUT_S (else 504).
A request without an API key may carry ANONYMOUS_BODY_MAX bytes at most: it can do
nothing that needs more, and it must not make the server read and parse megabytes.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.keys import KEY_HEADERS
from web.answers import error_response

ANONYMOUS_BODY_MAX = 64 * 1024  # bytes: a request without a key (an introspection query is about 2 KB)
KEYED = tuple(name.encode() for name in KEY_HEADERS)  # a request naming a key, valid or not


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


def host_name(header: str) -> str:
    """The Host header's name without its port: `[::1]:8000` is `[::1]`, `localhost:8000` is `localhost`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0]


class HostCheck(TrustedHostMiddleware):
    """Starlette's Host check (DNS rebinding) and its patterns (`*.example.com`), answering a bad Host like
    every other error here: JSON with a code, not plain text."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = host_name(Headers(scope=scope).get("host", ""))
        if any(
            host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:]))
            for pattern in self.allowed_hosts
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "invalid Host header"})
            return
        await error_response(400, "invalid Host header: this server answers only the names in ALLOWED_HOSTS")(
            scope, receive, send
        )


class RequestLimits:
    """413 for a body over max_bytes (by Content-Length or as it streams), 408 and 504 for slowness;
    401 for a body over `anonymous_max_bytes` sent without a key (None: AUTH=off, every caller is known)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        body_timeout_s: float,
        request_timeout_s: float,
        anonymous_max_bytes: int | None = ANONYMOUS_BODY_MAX,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s
        self.request_timeout_s = request_timeout_s
        self.anonymous_max_bytes = anonymous_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        keyless = None if any(name in headers for name in KEYED) else self.anonymous_max_bytes
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and (refused := self._over(int(length), keyless)):
            await error_response(*refused)(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        body_deadline = loop.time() + self.body_timeout_s
        received = 0
        body_done = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # after the body, receive() waits for a disconnect: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, body_deadline - loop.time()))
            except TimeoutError:
                raise _Refused(408, f"the request body did not arrive within {self.body_timeout_s:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if refused := self._over(received, keyless):
                    raise _Refused(*refused)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.request_timeout_s):
                await self.app(scope, limited_receive, tracking_send)
        except _Refused as refused:
            if not started:
                await error_response(refused.status, refused.message)(scope, receive, send)
        except TimeoutError:
            if not started:
                await error_response(504, f"no answer within {self.request_timeout_s:g} s")(scope, receive, send)

    def _over(self, size: int, keyless_limit: int | None) -> tuple[int, str] | None:
        """The refusal of a body of `size` bytes (413 over the limit; 401 over a keyless request's), if any."""
        if size > self.max_bytes:
            return 413, f"the request body is over the limit of {self.max_bytes} bytes"
        if keyless_limit is not None and size > keyless_limit:
            return 401, (
                f"a request without an API key may carry at most {keyless_limit} bytes: "
                "send `Authorization: Bearer <key>`"
            )
        return None
