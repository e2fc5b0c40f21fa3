"""What every resolver receives as info.context, and the typed `Info` that carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.rate import RateLimits
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

    @property
    def rate_limits(self) -> RateLimits:
        """The per-key rates (auth.permissions checks them through this, as a `Caller`)."""
        return self.services.rate_limits


# What schema fields take as `info`: its `.context` is a Context, not Any.
Info = strawberry.Info[Context, None]
