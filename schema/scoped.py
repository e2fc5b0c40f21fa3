"""The root fields' decorators: each field's whole contract where it is defined.

Scope and rate (checked by auth.permissions, and written into the description), cost
and audit (schema/contract.py, read by the cost rule and the audit extension). A
mutation must say whether it is audited; tests/test_contracts.py checks the rest.
"""

from __future__ import annotations

from typing import Any

import strawberry

from auth.permissions import needs, needs_key
from auth.rate import RateKind
from auth.scopes import Scope
from schema.audit_trail import AuditedOpen
from schema.contract import Cost, declared


def _documented(description: str, scope: Scope, rate: RateKind | None) -> str:
    limited = f", rate-limited per key except ADMIN keys (RATE_LIMIT_{rate.name})" if rate is not None else ""
    return f"{description} Scope: {scope.value}{limited}."


def scoped_field(
    scope: Scope,
    description: str,
    rate: RateKind | None = None,
    *,
    cost: Cost | None = None,
    audited: bool | None = None,
) -> Any:
    """`@strawberry.field` for a Query field that needs `scope` (its description says so)."""
    return strawberry.field(
        description=_documented(description, scope, rate),
        extensions=needs(scope, rate),
        metadata=declared(cost, audited),
    )


def keyed_field(description: str, *, cost: Cost | None = None) -> Any:
    """`@strawberry.field` for a Query field that any working key may read (what a key may ask of itself)."""
    return strawberry.field(
        description=f"{description} Scope: none (any API key).", extensions=needs_key(), metadata=declared(cost)
    )


def scoped_mutation(
    scope: Scope, description: str, rate: RateKind | None = None, *, audited: bool, cost: Cost | None = None
) -> Any:
    """`@strawberry.mutation` for a mutation that needs `scope` (its description says so)."""
    return strawberry.mutation(
        description=_documented(description, scope, rate),
        extensions=needs(scope, rate),
        metadata=declared(cost, audited),
    )


def scoped_subscription(scope: Scope, description: str, rate: RateKind | None = None) -> Any:
    """`@strawberry.subscription` for a subscription that needs `scope` (its description says so), its open audited."""
    return strawberry.subscription(
        description=_documented(description, scope, rate),
        extensions=[AuditedOpen(), *needs(scope, rate)],
        metadata=declared(audited=True),
    )
