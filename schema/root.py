"""Assemble the schema."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter
from strawberry.types import ExecutionContext

from schema.audit_trail import AuditTrail
from schema.error_codes import ErrorCodes
from schema.limits import OperationLimits
from schema.mutation import Mutation
from schema.operation_telemetry import OperationTelemetry
from schema.query import Query
from schema.scalars import SCALAR_OVERRIDES
from schema.subscription import Subscription


class FaceSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Client errors are expected and not logged; ErrorCodes logs unexpected ones."""


schema = FaceSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    scalar_overrides=SCALAR_OVERRIDES,  # type: ignore[arg-type]  # definitions, as Strawberry's own are
    extensions=[
        OperationTelemetry,
        ErrorCodes,
        OperationLimits,
        AuditTrail,
        lambda: MaxTokensLimiter(max_token_count=2000),
    ],
)
