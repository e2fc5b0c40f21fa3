"""The Strawberry permission every protected field declares: `extensions=needs(Scope.READ)`."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.responses import Response
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from auth.access import is_rate_limited, require, require_key
from auth.rate import RateKind, RateLimits
from auth.scopes import Principal, Scope
from errors import ApiError


class Caller(Protocol):
    """What a check needs of a request's context (resolvers.context.Context is one)."""

    @property
    def principal(self) -> Principal | None:
        """The caller's key; None when none was sent."""
        ...

    @property
    def rate_limits(self) -> RateLimits: ...

    @property
    def response(self) -> object:
        """The HTTP response being made (a 429's Retry-After goes on it), or a WebSocket."""
        ...


class RequireScope(BasePermission):
    """Passes when the caller holds the scope (and, for model calls, is within its rate)."""

    def __init__(self, scope: Scope, rate: RateKind | None = None) -> None:
        self.scope = scope
        self.rate = rate

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        caller: Caller = info.context
        principal = require(caller.principal, self.scope)
        if self.rate is not None and is_rate_limited(principal):
            try:
                caller.rate_limits.hit(self.rate, principal)
            except ApiError as exc:
                if isinstance(caller.response, Response):
                    caller.response.headers["Retry-After"] = str(exc.extensions["retryAfter"])
                raise
        return True


class RequireKey(BasePermission):
    """Passes for any caller with a working key (or with AUTH=off): for what a key may ask of itself."""

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        caller: Caller = info.context
        require_key(caller.principal)
        return True


def needs_key() -> list[FieldExtension]:
    """The field extensions of a field any key may read (schema/scoped.py's keyed_field)."""
    return [PermissionExtension([RequireKey()], use_directives=False)]


def needs(scope: Scope, rate: RateKind | None = None) -> list[FieldExtension]:
    """The field extensions of a field that needs `scope` (schema/ passes them to strawberry.field)."""
    return [PermissionExtension([RequireScope(scope, rate)], use_directives=False)]
