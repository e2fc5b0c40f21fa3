"""The access decisions: may this caller use this scope, and how far may a match reach."""

from __future__ import annotations

import math

from auth.scopes import Principal, Scope
from errors import ApiError, ErrorCode


def require_key(principal: Principal | None) -> Principal:
    """The principal; UNAUTHENTICATED without a key."""
    if principal is None:
        raise ApiError(
            ErrorCode.UNAUTHENTICATED,
            "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        )
    return principal


def require(principal: Principal | None, scope: Scope) -> Principal:
    """The principal, if it holds `scope`; UNAUTHENTICATED without a key, FORBIDDEN without the scope."""
    principal = require_key(principal)
    if not principal.has(scope):
        raise ApiError(
            ErrorCode.FORBIDDEN, f"the API key {principal.name!r} lacks the {scope.value} scope", {"scope": scope.value}
        )
    return principal


def granted_scopes(principal: Principal) -> list[Scope]:
    """Every scope the principal may use, in the order of Scope: ADMIN implies all the others."""
    return [scope for scope in Scope if principal.has(scope)]


def sees_collection(principal: Principal | None, collection_id: str) -> bool:
    """Whether the caller may see the collection: a key bound to collections sees those, and no other exists for it."""
    return principal is not None and (principal.collections is None or collection_id in principal.collections)


def visible_collections(principal: Principal | None) -> frozenset[str] | None:
    """The collection ids the caller may see; None: every one (a key bound to none)."""
    return frozenset() if principal is None else principal.collections


def sees_every_collection(principal: Principal | None) -> bool:
    """Whether the caller is bound to no collection: only such an ADMIN may create collections, or keys for all."""
    return principal is not None and principal.collections is None


def is_rate_limited(principal: Principal) -> bool:
    """Whether the per-key rates apply: not to ADMIN keys, which may already do anything (bulk imports)."""
    return Scope.ADMIN not in principal.scopes


# Exact distances are an oracle: each answer fixes v·e = 1 - d²/2 for the probe v and a stored e, and about
# a hundred well-chosen probes rebuild e. To a caller without BIOMETRICS (which may read embeddings anyway)
# distances, and the cut-offs it chooses, come on a grid of this step: enough to decide, too coarse to invert.
DISTANCE_STEP = 0.01


def shown_distance(principal: Principal | None, distance: float, ceiling: float = math.inf) -> float:
    """The distance as this caller may see it: exact with BIOMETRICS, else on the DISTANCE_STEP grid, and then
    never beyond `ceiling` (a candidate just inside MAX_THRESHOLD would otherwise round past it): the grid
    point at or below it."""
    if principal is not None and principal.has(Scope.BIOMETRICS):
        return distance
    on_grid = round(round(distance / DISTANCE_STEP) * DISTANCE_STEP, 10)
    if on_grid > ceiling:
        on_grid = round(math.floor(ceiling / DISTANCE_STEP) * DISTANCE_STEP, 10)
    return on_grid


def sees_beyond_max_threshold(principal: Principal | None) -> bool:
    """Whether candidates farther than MAX_THRESHOLD may be shown (they reveal who is merely similar)."""
    return principal is not None and principal.has(Scope.BIOMETRICS)
