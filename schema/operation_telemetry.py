"""Counts every GraphQL operation for /metrics and logs it (logger `faceid.operations`): its root fields, how it
ended, how long it took, and which key asked (its id; never a secret)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

log = logging.getLogger("faceid.operations")


def _root_fields(execution_context: Any) -> list[str]:
    """The operation's root field names (a document that did not parse has none)."""
    document = execution_context.graphql_document
    if document is None:
        return []
    wanted = execution_context.operation_name
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            wanted is None or (definition.name is not None and definition.name.value == wanted)
        ):
            selections = definition.selection_set.selections
            return [node.name.value for node in selections if isinstance(node, FieldNode)]
    return []


class OperationTelemetry(SchemaExtension):
    """First among the extensions, so that it reads the errors once ErrorCodes has given them their codes."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        services = getattr(self.execution_context.context, "services", None)
        if services is None:
            return
        result = self.execution_context.result
        codes = [
            str((error.extensions or {}).get("code", "ERROR")) for error in (getattr(result, "errors", None) or [])
        ]
        outcome, seconds = codes[0] if codes else "OK", time.perf_counter() - started
        fields = _root_fields(self.execution_context)
        services.telemetry.operation(fields, outcome, seconds, codes)
        principal = getattr(self.execution_context.context, "principal", None)
        key_id = None if principal is None else principal.key_id
        operation = ",".join(fields) or "(none)"
        # Over WebSocket an operation may be a camera's frame, fifteen a second: kept out of the INFO log.
        over_websocket = isinstance(getattr(self.execution_context.context, "request", None), WebSocket)
        log.log(
            logging.DEBUG if over_websocket else logging.INFO,
            "%s %s %.1f ms",
            operation,
            outcome,
            seconds * 1000,
            extra={
                "operation": operation,
                "result": outcome,
                "duration_ms": round(seconds * 1000, 1),
                "key_id": key_id,
            },
        )
