"""Validation: the standard rules (kept per document), the cost limit, and bounds on the variables.

The cost (schema/cost.py) is judged on the document as written, fragments and aliases
included, with the operation's variables and their defaults, so the answer is known
before any resolver runs. The variables are bounded before graphql-core coerces them
(coercing a million-element list takes seconds): their lengths, their count and
their text (a lone surrogate is no text, and no database takes it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    ValidationRule,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from bounds import ANONYMOUS_QUERY_COST_MAX, VARIABLE_LIST_MAX, VARIABLE_VALUES_MAX, base64_chars_max
from errors import ErrorCode
from schema.contract import CROP_COST
from schema.cost import MAX_DEPTH, Costing, OverBudget, TooDeep, effective_variables

PHOTOS_PER_OPERATION = 1


def cost_rule(max_cost: int, variables: Mapping[str, Any]) -> type[ValidationRule]:
    """A validation rule that refuses operations over `max_cost`, one photo or MAX_DEPTH."""

    class QueryCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context = self.context
            fragments = {
                definition.name.value: definition
                for definition in context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            costing = Costing(context.schema, fragments, effective_variables(node, variables), max_cost)
            try:
                tally = costing.operation(node)
            except OverBudget as over:
                self._refuse(
                    node, f"the operation could cost more than {max_cost} (a field costs 1, {_PRICES})", over.spent
                )
                return
            except TooDeep as deep:
                self._refuse(node, f"the operation nests more than {deep.limit} levels deep", max_cost + 1)
                return
            if tally.photos > PHOTOS_PER_OPERATION:
                self._refuse(
                    node,
                    f"an operation may process at most {PHOTOS_PER_OPERATION} photo; it has "
                    f"{tally.photos}. Send one request per photo.",
                    tally.cost,
                )
            elif tally.depth > MAX_DEPTH:
                self._refuse(
                    node, f"the operation is {tally.depth} levels deep; at most {MAX_DEPTH} are allowed.", tally.cost
                )

        def _refuse(self, node: OperationDefinitionNode, message: str, cost: int) -> None:
            self.report_error(
                GraphQLError(message, node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "cost": cost})
            )

    return QueryCost


_PRICES = (
    f"a face crop {CROP_COST}, lists multiply by their page size, introspection by the schema's size); "
    "ask for fewer items"
)


def variables_refusal(variables: Mapping[str, Any] | None, longest_text: int) -> GraphQLError | None:
    """Why the variables cannot be taken as they are (before coercion), or None.

    A walk that stops at the first list over VARIABLE_LIST_MAX items, at the first text
    over `longest_text` characters, or once VARIABLE_VALUES_MAX values have been seen,
    so it costs little whatever was sent.
    """
    pending: list[object] = [variables or {}]
    seen = 0
    while pending:
        value = pending.pop()
        seen += 1
        if seen > VARIABLE_VALUES_MAX:
            return _too_complex(f"the variables hold more than {VARIABLE_VALUES_MAX} values")
        if isinstance(value, str):
            if len(value) > longest_text:
                return _too_complex(f"a variable holds {len(value)} characters; at most {longest_text} are taken")
            if not _is_text(value):
                return _invalid("a variable holds a lone surrogate (such as \\ud800), which is not text")
        elif isinstance(value, float):
            if not math.isfinite(value):
                return _invalid("a variable holds NaN or Infinity, which JSON has no room for")
        elif isinstance(value, list):
            if len(value) > VARIABLE_LIST_MAX:
                return _too_complex(f"a list variable has {len(value)} items; at most {VARIABLE_LIST_MAX} are taken")
            pending.extend(value)
        elif isinstance(value, dict):
            if len(value) > VARIABLE_LIST_MAX:
                return _too_complex(f"an object variable has {len(value)} keys; at most {VARIABLE_LIST_MAX} are taken")
            for key, item in value.items():
                if not _is_text(key):
                    return _invalid("a variable's key holds a lone surrogate, which is not text")
                pending.append(item)
    return None


def _is_text(value: str) -> bool:
    """Whether the string is encodable text (no lone surrogate); every database and log line needs that."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value})


def _invalid(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ErrorCode.INVALID_INPUT.value})


_SUGGESTION = re.compile(r" Did you mean .*\?$")


def without_suggestions(error: GraphQLError) -> GraphQLError:
    """The error without graphql-core's "Did you mean ...?": with introspection off, it would name hidden fields."""
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(message, error.nodes, error.source, error.positions, error.path, extensions=error.extensions)


# GraphQL's standard rules depend on the document alone: their verdict is kept per document
# (as Strawberry's ValidationCache does), bounded so that unique query texts only churn it.
# They took half the event loop's time per request (bench/perf's enrolment, profiled).
_standard_verdict = lru_cache(maxsize=256)(validate_document)


class OperationLimits(SchemaExtension):
    """Validation: the standard rules (kept per document), then this server's own.

    Ours depend on the variables too, so they run on every operation: the cost limit,
    and no introspection if switched off.
    """

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        settings = execution.context.services.settings
        # A whole image in base64 is the longest text taken (resolvers/images.py refuses a longer one too).
        refused = variables_refusal(execution.variables, base64_chars_max(settings.max_image_bytes))
        if refused is not None:
            execution.pre_execution_errors = [refused]
            yield
            return
        # Without a key nothing but introspection runs: a budget for that (a full introspection is about 4,100).
        budget = settings.max_query_cost
        if execution.context.principal is None:
            budget = min(budget, ANONYMOUS_QUERY_COST_MAX)
        rules: list[type[ValidationRule]] = [cost_rule(budget, execution.variables or {})]
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        schema, document = execution.schema._schema, execution.graphql_document
        assert document is not None, "validation comes after parsing"
        standard = list(_standard_verdict(schema, document, tuple(execution.validation_rules)))
        if not settings.introspection:
            standard = [without_suggestions(error) for error in standard]
        execution.pre_execution_errors = [*standard, *validate(schema, document, rules)]
        yield
