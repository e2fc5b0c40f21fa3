"""The edge middleware on a tiny app: body size, body time and request time, each a typed answer."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message

from web.middleware import RequestLimits


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


async def slow(request: Request) -> PlainTextResponse:
    await asyncio.sleep(5)
    return PlainTextResponse("late")


def limited(**limits: float) -> Starlette:
    """A tiny app with the middleware where app.py puts it (inside Starlette's error handler)."""
    options = {"max_bytes": 1000, "body_timeout_s": 5, "request_timeout_s": 5, **limits}
    return Starlette(
        routes=[Route("/echo", echo, methods=["POST"]), Route("/slow", slow)],
        middleware=[Middleware(RequestLimits, **options)],
    )


async def call(
    app: Starlette,
    path: str,
    chunks: list[bytes | None],
    pause_s: float = 0.0,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, bytes]:
    """Drive the ASGI app directly, sending the body in chunks with a pause before each (None: hang)."""
    sent: list[Message] = []
    pending = list(chunks)

    async def receive() -> Message:
        await asyncio.sleep(pause_s)
        chunk = pending.pop(0) if pending else None
        if chunk is None:
            await asyncio.sleep(3600)  # the client sends nothing more
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST" if path == "/echo" else "GET",
        "path": path,
        "headers": headers or [],
        "query_string": b"",
        "http_version": "1.1",
        "scheme": "http",
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def test_a_body_within_the_limits_passes():
    assert await call(limited(), "/echo", [b"x" * 400, b"y" * 400]) == (200, b"800")


async def test_a_body_over_the_size_limit_is_413_as_it_streams():
    status, body = await call(limited(), "/echo", [b"x" * 600, b"y" * 600])
    assert status == 413 and b"IMAGE_TOO_LARGE" in body


async def test_a_body_that_trickles_in_is_408():
    status, body = await call(limited(body_timeout_s=0.3), "/echo", [b"x"] * 10, pause_s=0.1)
    assert status == 408 and b"REQUEST_TIMEOUT" in body


async def test_a_body_that_stops_arriving_is_408():
    status, body = await call(limited(body_timeout_s=0.3), "/echo", [b"partial", None])
    assert status == 408 and b"REQUEST_TIMEOUT" in body


async def test_an_answer_that_takes_too_long_is_504():
    status, body = await call(limited(request_timeout_s=0.3), "/slow", [b""])
    assert status == 504 and b"REQUEST_TIMEOUT" in body


async def test_through_http_the_answer_is_json():
    transport = httpx.ASGITransport(app=limited(request_timeout_s=0.3))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        response = await client.get("/slow")
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"


async def test_a_body_without_a_key_over_its_own_limit_is_401_before_it_is_read():
    app = limited(max_bytes=10_000, anonymous_max_bytes=1000)
    status, body = await call(app, "/echo", [b"x" * 600, b"y" * 600])
    assert status == 401 and b"UNAUTHENTICATED" in body
    status, body = await call(app, "/echo", [b"x" * 600, b"y" * 600], headers=[(b"authorization", b"Bearer k")])
    assert status == 200
