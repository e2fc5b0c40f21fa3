"""What every resolver receives as info.context, and the typed `Info` that carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.scopes import Principal
from resolvers.loaders import Loaders
from services import Services

if TYPE_CHECKING:
    from resolvers.live import LiveStream


@dataclass
class Context:
    services: Services
    principal: Principal | None = None  # the caller's API key; None when none was sent
    loaders: Loaders = field(default_factory=Loaders)
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    # A WebSocket connection's: what graphql-transport-ws's connection_init carried, and its live streams.
    connection_params: dict[str, Any] = field(default_factory=dict)
    live_streams: dict[str, LiveStream] = field(default_factory=dict)


# What schema fields take as `info`: its `.context` is a Context, not Any.
Info = strawberry.Info[Context, None]
