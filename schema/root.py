"""Assemble the schema."""

from __future__ import annotations

from enum import Enum

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter
from strawberry.types import ExecutionContext

from resolvers.errors import ERROR_DESCRIPTIONS, ErrorCode
from schema.audit import AuditTrail
from schema.errors import ErrorCodes
from schema.limits import OperationLimits
from schema.mutation import Mutation
from schema.query import Query

# Documents every error code a client can meet, in the schema itself.
ErrorCodeEnum = strawberry.enum(  # type: ignore[call-overload]  # a functional Enum, built from ErrorCode
    Enum(
        "ErrorCode",
        {code.name: strawberry.enum_value(code.value, description=ERROR_DESCRIPTIONS[code]) for code in ErrorCode},
    ),
    description="The values of `extensions.code` on errors.",
)


class FaceSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Client errors are expected and not logged; ErrorCodes logs unexpected ones."""


schema = FaceSchema(
    query=Query,
    mutation=Mutation,
    types=[ErrorCodeEnum],
    extensions=[ErrorCodes, OperationLimits, AuditTrail, lambda: MaxTokensLimiter(max_token_count=2000)],
)
