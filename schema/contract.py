"""A field's contract beyond its scope and rate: what it costs and whether it is audited.

Declared where the field is defined, as `strawberry.field(metadata=...)` (schema/scoped.py
passes it for the root fields), and read from the built schema by the cost rule
(schema/cost.py) and the audit extension (schema/audit_trail.py). tests/test_contracts.py walks
the schema: a field that takes a photo, returns a list of objects, or writes, without
declaring so, fails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from graphql import GraphQLField

CROP_COST = 10  # a base64 JPEG of about 7 KB (or a 512-number embedding), against a few bytes for most fields

COST = "faceid.cost"
AUDITED = "faceid.audited"


@dataclass(frozen=True)
class Cost:
    """How a field weighs in an operation's cost, before anything runs."""

    own: int = 1  # the field itself
    photo: str | None = None  # the argument that carries a photo the models run on (one per operation)
    # For a list, the most items it holds, each costing what is selected under it: a number, "page"
    # (`first` or `last`, for a connection), or "candidates" (as many as the search above it returns).
    length: int | Literal["page", "candidates"] | None = None
    # For a list of at most `length` items: the argument that asks for fewer (a `first`), if any.
    shortened_by: str | None = None
    # For a field whose answer holds verifications: how many candidates each has, a number or "limit"
    # (its `limit` argument).
    candidates: int | Literal["limit"] | None = None


NO_COST = Cost()


def _metadata(field: GraphQLField) -> Any:
    definition = (field.extensions or {}).get("strawberry-definition")
    return getattr(definition, "metadata", None) or {}


def cost_of(field: GraphQLField) -> Cost:
    """The field's declared cost (a plain field: 1)."""
    declared = _metadata(field).get(COST, NO_COST)
    assert isinstance(declared, Cost)
    return declared


def audit_of(field: GraphQLField) -> bool | None:
    """Whether the field is recorded in the audit log; None where it declares nothing (not audited)."""
    declared = _metadata(field).get(AUDITED)
    return None if declared is None else bool(declared)


def declared(cost: Cost | None = None, audited: bool | None = None) -> dict[str, object]:
    """The metadata a field declares its contract with (strawberry.field's `metadata=`)."""
    metadata: dict[str, object] = {}
    if cost is not None:
        metadata[COST] = cost
    if audited is not None:
        metadata[AUDITED] = audited
    return metadata
