"""API key management and the audit log (both need the admin scope, declared in schema/)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.queryset import QuerySet

from auth import keys
from auth.access import sees_every_collection, visible_collections
from auth.scopes import Scope
from bounds import API_KEY_NAME_MAX, PAGE_SIZE_MAX
from errors import ApiError, ErrorCode, invalid, not_found
from models import ApiKey as ApiKeyRow
from models import AuditEntry as AuditRow
from resolvers.collections import check_collection_ids
from resolvers.context import Context
from resolvers.ids import parse_id
from resolvers.pagination import Page, PageOf, paginate

OPERATION_NAME_MAX = 100


@dataclass(frozen=True)
class IssuedKey:
    """A key just created, and its secret: the only time the secret exists outside the caller."""

    row: ApiKeyRow
    secret: str


async def create_api_key(ctx: Context, name: str, scopes: list[Scope], collections: list[str] | None) -> IssuedKey:
    """A new key; bound to `collections` (each one the caller sees), or to none (every collection: a caller bound
    to none only)."""
    name = name.strip()
    if not 1 <= len(name) <= API_KEY_NAME_MAX:
        raise invalid(f"`name` must be 1 to {API_KEY_NAME_MAX} characters")
    if not scopes:
        raise invalid("give at least one scope")
    if collections is None and not sees_every_collection(ctx.principal):
        raise ApiError(
            ErrorCode.FORBIDDEN, "this API key is bound to collections: name the `collections` the new key may see"
        )
    bound = None if collections is None else await check_collection_ids(ctx, collections)
    row, secret = await keys.create_key(name, scopes, bound)
    return IssuedKey(row, secret)


async def _managed_keys(ctx: Context) -> QuerySet[ApiKeyRow]:
    """The keys the caller manages: all, or (bound to collections) those bound within its own."""
    allowed = visible_collections(ctx.principal)
    if allowed is None:
        return ApiKeyRow.all()
    rows = await ApiKeyRow.filter(collections__isnull=False).values_list("id", "collections")
    return ApiKeyRow.filter(id__in=[key_id for key_id, bound in rows if set(bound) <= allowed])


async def revoke_api_key(ctx: Context, key_id: str) -> ApiKeyRow:
    row = await (await _managed_keys(ctx)).get_or_none(id=parse_id(key_id, "API key"))
    if row is None:
        raise not_found("API key", key_id)
    return await keys.revoke_key(row)


async def api_keys(ctx: Context, include_revoked: bool) -> list[ApiKeyRow]:
    rows = await _managed_keys(ctx)
    return await (rows if include_revoked else rows.filter(revoked_at=None)).order_by("created_at", "id")


async def audit_log(ctx: Context, page: Page, operation: str | None, key_id: str | None) -> PageOf[AuditRow]:
    query = AuditRow.all()
    if visible_collections(ctx.principal) is not None:  # a tenant's admin reads what its tenant's keys did
        query = query.filter(key_id__in=await (await _managed_keys(ctx)).values_list("id", flat=True))
    if operation is not None and len(operation) > OPERATION_NAME_MAX:
        raise invalid(f"`operation` must be at most {OPERATION_NAME_MAX} characters (a field's name)")
    if operation is not None:
        query = query.filter(operation=operation)
    if key_id is not None:
        query = query.filter(key_id=parse_id(key_id, "API key"))
    return await paginate(query, page, PAGE_SIZE_MAX)
