"""The access decisions: may this caller use this scope, and how far may a match reach."""

from __future__ import annotations

from auth.scopes import ApiScope, Principal
from resolvers.errors import ApiError, ErrorCode


def require(principal: Principal | None, scope: ApiScope) -> Principal:
    """The principal, if it holds `scope`; UNAUTHENTICATED without a key, FORBIDDEN without the scope."""
    if principal is None:
        raise ApiError(
            ErrorCode.UNAUTHENTICATED,
            "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        )
    if not principal.has(scope):
        raise ApiError(
            ErrorCode.FORBIDDEN, f"the API key {principal.name!r} lacks the {scope.value} scope", {"scope": scope.value}
        )
    return principal


def is_rate_limited(principal: Principal) -> bool:
    """Whether the per-key rates apply: not to ADMIN keys, which may already do anything (bulk imports)."""
    return ApiScope.ADMIN not in principal.scopes


def sees_beyond_max_threshold(principal: Principal | None) -> bool:
    """Whether candidates farther than MAX_THRESHOLD may be shown (they reveal who is merely similar)."""
    return principal is not None and principal.has(ApiScope.BIOMETRICS)
