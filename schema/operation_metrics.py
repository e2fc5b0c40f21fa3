"""Counts every GraphQL operation for /metrics: its root fields, how it ended, and how long it took."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension


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


class OperationMetrics(SchemaExtension):
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
        outcome = codes[0] if codes else "OK"
        services.telemetry.operation(
            _root_fields(self.execution_context), outcome, time.perf_counter() - started, codes
        )
