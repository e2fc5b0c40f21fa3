"""Give every GraphQL error an `extensions.code`, and hide unexpected ones."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from auth.audit import clipped
from errors import ErrorCode
from resolvers.failures import as_api_error
from telemetry import request_id

log = logging.getLogger("faceid.errors")


def _request_id() -> dict[str, str]:
    """`requestId` of the request being answered (X-Request-ID), to quote when reporting a failure."""
    current = request_id()
    return {} if current is None else {"requestId": current}


def with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    known = as_api_error(original)
    extra: dict[str, object] = {}
    if known is not None:
        code, message, extra = known.code, known.message, known.extensions
    elif error.extensions and "code" in error.extensions:  # a rule of ours that set its code
        code, message = ErrorCode(str(error.extensions["code"])), error.message
    elif original is None or error.path is None:
        # Parse, validation and variable-coercion errors (the last may wrap a scalar's
        # parse error): the client's mistake, in graphql-core's words.
        code, message = ErrorCode.GRAPHQL_VALIDATION_FAILED, error.message
    else:
        log.error("unexpected error in %s: %s", error.path, clipped(repr(original)), exc_info=original)
        code, message = ErrorCode.INTERNAL, "internal server error"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), **extra, "code": code.value, **_request_id()},
    )


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        _code_errors(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result over WebSocket (subscriptions, and operations sent there) gets its codes too."""
        _code_errors(result)
        yield


def _code_errors(result: Any) -> None:
    """Give each error of an execution result (if any) its code."""
    errors = getattr(result, "errors", None)  # None for no result; incremental frames have their own
    if errors:
        result.errors = [with_code(error) for error in errors]
