"""A graphql-transport-ws client for live recognition: what a camera app would do, for tests and bench/live.py.

One WebSocket, several operations on it: the liveRecognition subscription, and a
sendLiveFrame mutation per frame (not awaited one by one: frames flow while answers come).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections import defaultdict
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"

LIVE_SUBSCRIPTION = """
subscription Live($stream: String!, $threshold: Float, $collection: ID) {
  liveRecognition(stream: $stream, threshold: $threshold, collection: $collection) {
    frame droppedFrames serverMs
    error { code message }
    faces { track identifiedNow identifiedMsAgo match box { x y width height }
            best { distance falseMatchRate person { id name } } }
  }
}"""

SEND_FRAME = """
mutation Frame($stream: String!, $frame: Int!, $jpeg: String!) {
  sendLiveFrame(stream: $stream, frame: $frame, image: {base64: $jpeg}) { frame replacedFrame }
}"""


class LiveClient:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._ids = (str(n) for n in itertools.count(1))
        self.messages: dict[str, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, ws_url: str, params: dict[str, Any] | None = None, **headers: str) -> LiveClient:
        """Connect and initialise (connection_init with `params`); ConnectionError if refused."""
        socket = await connect(ws_url, subprotocols=[PROTOCOL], additional_headers=headers, max_size=2**24)  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": params or {}}))
        try:
            reply = json.loads(await socket.recv())
        except ConnectionClosed as closed:
            raise ConnectionError(f"closed: {closed.rcvd.code if closed.rcvd else None} {closed}") from None
        if reply.get("type") != "connection_ack":
            raise ConnectionError(f"not acknowledged: {reply}")
        return cls(socket)

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if message.get("type") == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
            elif "id" in message:
                self.messages[message["id"]].put_nowait(message)

    async def start(self, query: str, **variables: Any) -> str:
        """Send a subscribe message (any operation); its id, whose messages arrive in self.messages[id]."""
        op = next(self._ids)
        payload = {"query": query, "variables": variables}
        await self.socket.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
        return op

    async def next(self, op: str, wait_s: float = 60) -> dict[str, Any]:
        """The next message of operation `op` (next, error or complete); TimeoutError after wait_s."""
        return await asyncio.wait_for(self.messages[op].get(), wait_s)

    async def subscribe_live(self, stream: str, **variables: Any) -> str:
        return await self.start(LIVE_SUBSCRIPTION, stream=stream, **variables)

    async def send_frame(self, stream: str, number: int, jpeg: bytes) -> str:
        return await self.start(SEND_FRAME, stream=stream, frame=number, jpeg=base64.b64encode(jpeg).decode("ascii"))

    async def complete(self, op: str) -> None:
        await self.socket.send(json.dumps({"id": op, "type": "complete"}))

    async def close(self) -> None:
        await self.socket.close()
        self._reader.cancel()
