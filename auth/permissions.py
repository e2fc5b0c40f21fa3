"""The Strawberry permission every protected field declares: `extensions=needs(ApiScope.READ)`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from auth.access import is_rate_limited, require
from auth.rate import RateKind
from auth.scopes import ApiScope
from errors import ApiError

if TYPE_CHECKING:  # resolvers.context imports schema types, which declare their scopes with this module
    from resolvers.context import Info


class RequireScope(BasePermission):
    """Passes when the caller holds the scope (and, for model calls, is within its rate)."""

    def __init__(self, scope: ApiScope, rate: RateKind | None = None) -> None:
        self.scope = scope
        self.rate = rate

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        principal = require(context.principal, self.scope)
        if self.rate is not None and is_rate_limited(principal):
            try:
                context.services.rate_limits.hit(self.rate, principal)
            except ApiError as exc:
                if isinstance(context.response, Response):
                    context.response.headers["Retry-After"] = str(exc.extensions["retryAfter"])
                raise
        return True


def needs(scope: ApiScope, rate: RateKind | None = None) -> list[FieldExtension]:
    """The field extensions of a field that needs `scope` (schema/ passes them to strawberry.field)."""
    return [PermissionExtension([RequireScope(scope, rate)], use_directives=False)]
