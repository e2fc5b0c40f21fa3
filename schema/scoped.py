"""Fields that declare the scope they need: the check (auth.permissions) and its documentation."""

from __future__ import annotations

from typing import Any

import strawberry

from auth.permissions import needs
from auth.rate import RateKind
from auth.scopes import ApiScope
from schema.audit import AuditedOpen


def _documented(description: str, scope: ApiScope, rate: RateKind | None) -> str:
    limited = f", rate-limited per key except ADMIN keys (RATE_LIMIT_{rate.name})" if rate is not None else ""
    return f"{description} Scope: {scope.value}{limited}."


def scoped_field(scope: ApiScope, description: str, rate: RateKind | None = None) -> Any:
    """`@strawberry.field` for a field that needs `scope` (its description says so)."""
    return strawberry.field(description=_documented(description, scope, rate), extensions=needs(scope, rate))


def scoped_mutation(scope: ApiScope, description: str, rate: RateKind | None = None) -> Any:
    """`@strawberry.mutation` for a mutation that needs `scope` (its description says so)."""
    return strawberry.mutation(description=_documented(description, scope, rate), extensions=needs(scope, rate))


def scoped_subscription(scope: ApiScope, description: str, rate: RateKind | None = None) -> Any:
    """`@strawberry.subscription` for a subscription that needs `scope` (its description says so), its open audited."""
    return strawberry.subscription(
        description=_documented(description, scope, rate), extensions=[AuditedOpen(), *needs(scope, rate)]
    )
