"""Scopes, and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    READ = "READ"
    VERIFY = "VERIFY"
    ENROL = "ENROL"
    DELETE = "DELETE"
    BIOMETRICS = "BIOMETRICS"
    ADMIN = "ADMIN"


SCOPE_DESCRIPTIONS = {
    Scope.READ: "Read persons, faces (without crops or embeddings) and the model.",
    Scope.VERIFY: "Run verifyLinear and verifyPerson (rate-limited).",
    Scope.ENROL: "Create and update persons and faces (photo uploads are rate-limited).",
    Scope.DELETE: "Delete persons and faces.",
    Scope.BIOMETRICS: "Read raw embeddings and face crops, and see candidates beyond the server's maximum threshold.",
    Scope.ADMIN: "Manage API keys, read the audit log and /metrics; implies every other scope. A key bound to no "
    "collection may also create collections and keys for any of them.",
}


@dataclass(frozen=True)
class Principal:
    """The caller: an API key's id, name, scopes and collections (key_id is None with AUTH=off)."""

    key_id: str | None
    name: str
    scopes: frozenset[Scope]
    collections: frozenset[str] | None = None  # the collection ids it may see; None: every collection

    def has(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes


# With AUTH=off every caller acts as this.
UNAUTHENTICATED_ADMIN = Principal(None, "anonymous (AUTH=off)", frozenset({Scope.ADMIN}))
