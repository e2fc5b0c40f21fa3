"""API key management and the audit log (both need the admin scope, declared in schema/)."""

from __future__ import annotations

from auth import keys
from auth.scopes import ApiScope
from bounds import API_KEY_NAME_MAX, PAGE_SIZE_MAX
from errors import invalid, not_found
from models import ApiKey as ApiKeyRow
from models import AuditEntry as AuditRow
from resolvers.ids import parse_id
from resolvers.mapping import api_key_type, audit_entry_type
from resolvers.pagination import Page, paginate
from schema.types import ApiKey, AuditEntryConnection, NewApiKey

OPERATION_NAME_MAX = 100


async def create_api_key(name: str, scopes: list[ApiScope]) -> NewApiKey:
    name = name.strip()
    if not 1 <= len(name) <= API_KEY_NAME_MAX:
        raise invalid(f"`name` must be 1 to {API_KEY_NAME_MAX} characters")
    if not scopes:
        raise invalid("give at least one scope")
    row, secret = await keys.create_key(name, scopes)
    return NewApiKey(secret=secret, api_key=api_key_type(row))


async def revoke_api_key(key_id: str) -> ApiKey:
    row = await ApiKeyRow.get_or_none(id=parse_id(key_id, "API key"))
    if row is None:
        raise not_found("API key", key_id)
    return api_key_type(await keys.revoke_key(row))


async def api_keys(include_revoked: bool) -> list[ApiKey]:
    rows = ApiKeyRow.all() if include_revoked else ApiKeyRow.filter(revoked_at=None)
    return [api_key_type(row) for row in await rows.order_by("created_at", "id")]


async def audit_log(page: Page, operation: str | None, key_id: str | None) -> AuditEntryConnection:
    query = AuditRow.all()
    if operation is not None and len(operation) > OPERATION_NAME_MAX:
        raise invalid(f"`operation` must be at most {OPERATION_NAME_MAX} characters (a field's name)")
    if operation is not None:
        query = query.filter(operation=operation)
    if key_id is not None:
        query = query.filter(key_id=parse_id(key_id, "API key"))
    return await paginate(query, page, PAGE_SIZE_MAX, audit_entry_type)
