"""API keys: random secrets, stored as SHA-256 digests, looked up per request.

A secret carries 256 random bits, so a fast digest is enough: there is nothing to
brute-force that a slow password hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from auth.scopes import UNAUTHENTICATED_ADMIN, Principal, Scope
from models import ApiKey

log = logging.getLogger("faceid.auth")

SECRET_PREFIX = "fid_"  # recognisable in logs and by secret scanners
KEY_HEADERS = ("authorization", "x-api-key")  # the headers (and connection_init's keys) a key comes in
LAST_USED_RESOLUTION = timedelta(minutes=1)  # lastUsedAt is written at most this often per key


class AccessSettings(Protocol):
    """What key checks depend on; settings.Settings is one."""

    @property
    def auth(self) -> str:
        """The AUTH setting: on, or off to grant every caller every scope."""
        ...

    @property
    def admin_api_key(self) -> str:
        """An admin key given by the environment, or ""."""
        ...

    @property
    def admin_key_file(self) -> Path:
        """Where the first start writes the admin key it creates."""
        ...


class InvalidKey(Exception):
    """A key was sent but names no active key."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_from_headers(headers: Mapping[str, str]) -> str | None:
    """The key of `Authorization: Bearer <key>` or `X-API-Key: <key>`; None if neither is sent."""
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


# Who reads /metrics with METRICS_TOKEN: no scope, and so nothing of GraphQL, but every collection's counts.
METRICS_READER = Principal(None, "METRICS_TOKEN", frozenset())


def is_metrics_token(headers: Mapping[str, str], token: str) -> bool:
    """Whether the request carries METRICS_TOKEN (never when it is unset)."""
    secret = secret_from_headers(headers)
    return bool(token) and secret is not None and hmac.compare_digest(secret.encode(), token.encode())


def principal_of(row: ApiKey) -> Principal:
    collections = None if row.collections is None else frozenset(row.collections)
    return Principal(str(row.id), row.name, frozenset(Scope(scope) for scope in row.scopes), collections)


async def authenticate(headers: Mapping[str, str], settings: AccessSettings) -> Principal | None:
    """The caller the headers name; None without a key; InvalidKey for an unknown or revoked one."""
    if settings.auth == "off":
        return UNAUTHENTICATED_ADMIN
    secret = secret_from_headers(headers)
    if secret is None:
        return None
    row = await ApiKey.get_or_none(secret_sha256=digest(secret), revoked_at=None)
    if row is None:
        raise InvalidKey
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await ApiKey.filter(id=row.id).update(last_used_at=now)
    return principal_of(row)


async def is_active(principal: Principal | None) -> bool:
    """Whether the principal's key is still unrevoked (a long-lived connection asks before each operation).

    No key, and AUTH=off's principal, have nothing to revoke.
    """
    if principal is None or principal.key_id is None:
        return True
    return await ApiKey.filter(id=principal.key_id, revoked_at=None).exists()


async def create_key(
    name: str, scopes: Iterable[Scope], collections: Iterable[str] | None = None, origin: str = "stored"
) -> tuple[ApiKey, str]:
    """A new key and its secret (the only time the secret exists outside the caller); collections: None for all."""
    secret = new_secret()
    bound = None if collections is None else sorted(set(collections))
    row = await ApiKey.create(
        name=name, secret_sha256=digest(secret), scopes=sorted(set(scopes)), collections=bound, origin=origin
    )
    return row, secret


async def revoke_key(row: ApiKey) -> ApiKey:
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await row.save(update_fields=["revoked_at"])
    return row


async def bootstrap(settings: AccessSettings) -> None:
    """Make sure an admin can get in: ADMIN_API_KEY, or a first key written to DATA_DIR."""
    if settings.auth == "off":
        log.warning("AUTH=off: every caller may read, export and delete the whole gallery. Local experiments only.")
        return
    if settings.admin_api_key:
        await _adopt_environment_key(settings.admin_api_key)
        return
    if await ApiKey.filter(revoked_at=None).exists():
        return
    _, secret = await create_key("admin (created at first start)", [Scope.ADMIN])
    path = settings.admin_key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    os.chmod(path, 0o600)  # an older file keeps its mode through O_CREAT
    print(
        f"\nfaceid: created the first admin API key (shown once, also in {path}, mode 0600):\n\n"
        f"    {secret}\n\nSend it as `Authorization: Bearer <key>`; create narrower keys with createApiKey.\n",
        file=sys.stderr,
        flush=True,
    )


async def _adopt_environment_key(secret: str) -> None:
    """ADMIN_API_KEY has admin; a previous value of it no longer works."""
    wanted = digest(secret)
    now = datetime.now(UTC)
    await ApiKey.filter(origin="env", revoked_at=None).exclude(secret_sha256=wanted).update(revoked_at=now)
    row = await ApiKey.get_or_none(secret_sha256=wanted)
    if row is None:
        await ApiKey.create(name="ADMIN_API_KEY", secret_sha256=wanted, scopes=[Scope.ADMIN], origin="env")
    elif row.revoked_at is not None or row.origin != "env" or Scope.ADMIN not in row.scopes:
        # The environment is the authority for this key: it has admin while it is set.
        await ApiKey.filter(id=row.id).update(revoked_at=None, origin="env", scopes=[Scope.ADMIN])
