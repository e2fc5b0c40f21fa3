"""The cost of an operation, checked before anything runs (QUERY_TOO_COMPLEX).

A field costs 1 and a face crop 10; a list multiplies the cost of what is selected
under it by its largest possible length (a page's `first`, a verification's
candidates, a person's faces). At most one field per operation processes a photo.
The depth is bounded too. The sums run over the document as written, fragments and
aliases included, with the operation's variables, so the answer is known before any
resolver runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    validate,
    value_from_ast_untyped,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from resolvers.errors import ErrorCode
from settings import (
    FACES_PER_PERSON_MAX,
    FACES_PER_PHOTO_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    SEARCH_LIMIT_DEFAULT,
    SEARCH_LIMIT_MAX,
)

MAX_DEPTH = 10
PHOTOS_PER_OPERATION = 1
CROP_COST = 10  # a base64 JPEG of about 7 KB, against a few bytes for most fields

# (type, field): the cost of the field itself, when not 1.
FIELD_COSTS = {("Face", "cropJpegBase64"): CROP_COST, ("Face", "embedding"): CROP_COST}
# Fields that run the models on a photo: (type, field, the argument that carries it).
PHOTO_FIELDS = {
    ("Query", "verifyLinear"): "image",
    ("Query", "verifyPerson"): "image",
    ("Query", "detectFaces"): "image",
    ("Query", "recognizeFaces"): "image",
    ("Mutation", "createFace"): "image",
    ("Mutation", "updateFace"): "image",
    ("Mutation", "sendLiveFrame"): "image",
}
# Connections, as long as their `first` (or `last`) argument.
PAGED = {("Query", "persons"), ("Query", "faces"), ("Query", "auditLog")}
# Lists with a fixed bound.
FIXED_LENGTHS = {
    ("Query", "facesByPerson"): FACES_PER_PERSON_MAX,
    ("Person", "faces"): FACES_PER_PERSON_MAX,
    ("Query", "apiKeys"): PAGE_SIZE_MAX,
    ("Query", "detectFaces"): FACES_PER_PHOTO_MAX,
    ("Query", "recognizeFaces"): FACES_PER_PHOTO_MAX,
}


@dataclass
class _Walk:
    variables: Mapping[str, Any]
    fragments: dict[str, FragmentDefinitionNode]
    photos: int = 0
    depth: int = 0


def _argument(node: FieldNode, name: str, variables: Mapping[str, Any]) -> Any:
    for argument in node.arguments or ():
        if argument.name.value == name:
            if isinstance(argument.value, VariableNode):
                return variables.get(argument.value.name.value)
            return value_from_ast_untyped(argument.value, dict(variables))
    return None


def _int(value: Any, default: int, ceiling: int) -> int:
    """A length argument as counted: its value if an int in range, else the default or the ceiling."""
    if isinstance(value, int) and not isinstance(value, bool):
        return max(1, min(value, ceiling))
    return default


def _length(type_name: str, node: FieldNode, walk: _Walk, candidates: int) -> int:
    """The most items the field can hold, for the multiplication."""
    key = (type_name, node.name.value)
    if key in PAGED:
        first, last = _argument(node, "first", walk.variables), _argument(node, "last", walk.variables)
        return _int(last if last is not None else first, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
    if key in FIXED_LENGTHS:
        return FIXED_LENGTHS[key]
    if key == ("Verification", "candidates"):
        return candidates
    return 1


def _candidates(type_name: str, node: FieldNode, walk: _Walk, inherited: int) -> int:
    """How many candidates the verification under this field returns."""
    if (type_name, node.name.value) in {
        ("Query", "verifyLinear"),
        ("Query", "recognizeFaces"),
        ("Query", "searchByEmbedding"),
    }:
        return _int(_argument(node, "limit", walk.variables), SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX)
    if (type_name, node.name.value) == ("Query", "verifyPerson"):
        return SEARCH_LIMIT_MAX
    return inherited


def _cost(
    context: ValidationContext,
    selections: SelectionSetNode,
    parent: GraphQLNamedType,
    walk: _Walk,
    depth: int,
    candidates: int,
    seen: frozenset[str],
) -> int:
    walk.depth = max(walk.depth, depth)
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name.startswith("__") or not isinstance(parent, GraphQLObjectType) or name not in parent.fields:
                continue  # introspection is cheap; unknown fields are the other rules' to report
            key = (parent.name, name)
            if key in PHOTO_FIELDS and _argument(selection, PHOTO_FIELDS[key], walk.variables) is not None:
                walk.photos += 1
            inner = 0
            if selection.selection_set is not None:
                child = get_named_type(parent.fields[name].type)
                inner = _cost(
                    context,
                    selection.selection_set,
                    child,
                    walk,
                    depth + 1,
                    _candidates(parent.name, selection, walk, candidates),
                    seen,
                )
            total += _length(parent.name, selection, walk, candidates) * (FIELD_COSTS.get(key, 1) + inner)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = parent if condition is None else context.schema.get_type(condition.name.value) or parent
            total += _cost(context, selection.selection_set, target, walk, depth, candidates, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = walk.fragments.get(name)
            if fragment is None or name in seen:
                continue  # unknown or cyclic: reported by the standard rules
            target = context.schema.get_type(fragment.type_condition.name.value) or parent
            total += _cost(context, fragment.selection_set, target, walk, depth, candidates, seen | {name})
    return total


def cost_rule(max_cost: int, variables: Mapping[str, Any]) -> type[ValidationRule]:
    """A validation rule that refuses operations over `max_cost`, one photo or MAX_DEPTH."""

    class QueryCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context = self.context
            root = context.schema.get_root_type(node.operation)
            if root is None:
                return
            fragments = {
                definition.name.value: definition
                for definition in context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            walk = _Walk(variables, fragments)
            cost = _cost(context, node.selection_set, root, walk, 1, 1, frozenset())
            if walk.photos > PHOTOS_PER_OPERATION:
                self._refuse(
                    node,
                    f"an operation may process at most {PHOTOS_PER_OPERATION} photo; it has "
                    f"{walk.photos}. Send one request per photo.",
                    cost,
                )
            elif walk.depth > MAX_DEPTH:
                self._refuse(node, f"the operation is {walk.depth} levels deep; at most {MAX_DEPTH} are allowed.", cost)
            elif cost > max_cost:
                self._refuse(
                    node,
                    f"the operation could cost {cost}, over the limit of {max_cost} (a field costs 1, "
                    f"a face crop {CROP_COST}, lists multiply by their page size); ask for fewer items.",
                    cost,
                )

        def _refuse(self, node: OperationDefinitionNode, message: str, cost: int) -> None:
            self.report_error(
                GraphQLError(message, node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "cost": cost})
            )

    return QueryCost


# GraphQL's standard rules depend on the document alone: their verdict is kept per document
# (as Strawberry's ValidationCache does), bounded so that unique query texts only churn it.
# They took half the event loop's time per request (bench/perf.py's enrolment, profiled).
_standard_verdict = lru_cache(maxsize=256)(validate_document)


class OperationLimits(SchemaExtension):
    """Validation: the standard rules (kept per document), then this server's own.

    Ours depend on the variables too, so they run on every operation: the cost limit,
    and no introspection if switched off.
    """

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        settings = execution.context.services.settings
        rules: list[type[ValidationRule]] = [cost_rule(settings.max_query_cost, execution.variables or {})]
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        schema, document = execution.schema._schema, execution.graphql_document
        assert document is not None, "validation comes after parsing"
        standard = _standard_verdict(schema, document, tuple(execution.validation_rules))
        execution.pre_execution_errors = [*standard, *validate(schema, document, rules)]
        yield
