"""ASGI middleware at the edge: bounds on a request's body size, body time and total time.

A slow client cannot hold memory or a worker: the body must arrive within
BODY_TIMEOUT_S (else 408) and the answer start within REQUEST_TIMEOUT_S (else 504).
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.errors import ErrorCode, http_error_body


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


class RequestLimits:
    """413 for a body over max_bytes (by Content-Length or as it streams), 408 and 504 for slowness."""

    def __init__(self, app: ASGIApp, max_bytes: int, body_timeout_s: float, request_timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s
        self.request_timeout_s = request_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._answer(send, 413, self._too_large())
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
                if received > self.max_bytes:
                    raise _Refused(413, self._too_large())
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
                await self._answer(send, refused.status, refused.message)
        except TimeoutError:
            if not started:
                await self._answer(send, 504, f"no answer within {self.request_timeout_s:g} s")

    def _too_large(self) -> str:
        return f"the request body is over the limit of {self.max_bytes} bytes"

    @staticmethod
    async def _answer(send: Send, status: int, message: str) -> None:
        code = ErrorCode.IMAGE_TOO_LARGE if status == 413 else None
        body = json.dumps(http_error_body(status, message, code)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
