"""API key management and the audit log (both need the admin scope, declared in schema/)."""

from __future__ import annotations

from dataclasses import dataclass

from auth import keys
from auth.scopes import Scope
from bounds import API_KEY_NAME_MAX, PAGE_SIZE_MAX
from errors import invalid, not_found
from models import ApiKey as ApiKeyRow
from models import AuditEntry as AuditRow
from resolvers.ids import parse_id
from resolvers.pagination import Page, PageOf, paginate

OPERATION_NAME_MAX = 100


@dataclass(frozen=True)
class IssuedKey:
    """A key just created, and its secret: the only time the secret exists outside the caller."""

    row: ApiKeyRow
    secret: str


async def create_api_key(name: str, scopes: list[Scope]) -> IssuedKey:
    name = name.strip()
    if not 1 <= len(name) <= API_KEY_NAME_MAX:
        raise invalid(f"`name` must be 1 to {API_KEY_NAME_MAX} characters")
    if not scopes:
        raise invalid("give at least one scope")
    row, secret = await keys.create_key(name, scopes)
    return IssuedKey(row, secret)


async def revoke_api_key(key_id: str) -> ApiKeyRow:
    row = await ApiKeyRow.get_or_none(id=parse_id(key_id, "API key"))
    if row is None:
        raise not_found("API key", key_id)
    return await keys.revoke_key(row)


async def api_keys(include_revoked: bool) -> list[ApiKeyRow]:
    rows = ApiKeyRow.all() if include_revoked else ApiKeyRow.filter(revoked_at=None)
    return await rows.order_by("created_at", "id")


async def audit_log(page: Page, operation: str | None, key_id: str | None) -> PageOf[AuditRow]:
    query = AuditRow.all()
    if operation is not None and len(operation) > OPERATION_NAME_MAX:
        raise invalid(f"`operation` must be at most {OPERATION_NAME_MAX} characters (a field's name)")
    if operation is not None:
        query = query.filter(operation=operation)
    if key_id is not None:
        query = query.filter(key_id=parse_id(key_id, "API key"))
    return await paginate(query, page, PAGE_SIZE_MAX)
