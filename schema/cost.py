"""What an operation could cost, computed from the document before anything runs.

A field costs 1 and a face crop 10; a list multiplies the cost of what is selected
under it by its largest possible length (a page's `first`, a verification's
candidates, a person's faces). Each field declares these where it is defined
(schema/contract.py); this walk only reads them. Introspection is costed the same way, over the
schema's real lists (its types, their fields, their arguments), so aliased
`__schema` traversals cost what their answers would hold.

The walk is linear in the document: each fragment is costed once per context and
its result reused wherever it is spread, and the walk stops the moment the budget
is passed. Every field it costs adds at least 1 to the total (only `__typename` and
fields the standard rules will refuse add nothing, and those are bounded by the
document's own size), so the work done is bounded by the budget whatever the
document's shape: fragment chains of 100 levels are refused within a couple of
milliseconds (tests/test_hardening_server.py checks the server stays responsive).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    GraphQLWrappingType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

from bounds import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX
from schema.contract import Cost, cost_of

MAX_DEPTH = 10  # levels of the API's own fields
MAX_NESTING = 32  # levels of any selection, introspection's type references included


class OverBudget(Exception):
    """The operation could cost more than the budget; `spent` is what the walk had counted when it stopped."""

    def __init__(self, spent: int) -> None:
        self.spent = spent


class TooDeep(Exception):
    def __init__(self, depth: int, limit: int) -> None:
        self.depth = depth
        self.limit = limit


@dataclass(frozen=True)
class Tally:
    """A selection set's cost, the photos it processes, and how many levels of the API's fields it spans."""

    cost: int = 0
    photos: int = 0
    depth: int = 0


def effective_variables(operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    """The operation's variables as execution will see them: the given values, else each one's default."""
    variables = dict(given)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in variables and definition.default_value is not None:
            variables[name] = value_from_ast_untyped(definition.default_value, {})
    return variables


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


class Costing:
    """One operation's walk: its document's fragments, its variables, and the budget it must stay within."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        budget: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.budget = budget
        self._fragment_tallies: dict[tuple[str, int], Tally] = {}
        self._introspection_costs: dict[tuple[int, str, int], int] = {}
        self._open: set[str] = set()  # fragments being costed: a cycle is the standard rules' to report

    def operation(self, operation: OperationDefinitionNode) -> Tally:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return Tally()
        return self._selections(operation.selection_set, root, 1, 1)

    @contextmanager
    def _opening(self, fragment: str) -> Iterator[None]:
        """While a fragment is being costed: a spread of it inside itself is a cycle, not walked again."""
        self._open.add(fragment)
        try:
            yield
        finally:
            self._open.discard(fragment)

    def _charge(self, total: int) -> int:
        if total > self.budget:
            raise OverBudget(total)
        return total

    def _selections(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, nesting: int, candidates: int
    ) -> Tally:
        if nesting > MAX_NESTING:
            raise TooDeep(nesting, MAX_NESTING)
        cost = photos = depth = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                part = self._field(selection, parent, nesting, candidates)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = parent if condition is None else self.schema.get_type(condition.name.value) or parent
                inner = self._selections(selection.selection_set, target, nesting, candidates)
                part = Tally(inner.cost, inner.photos, inner.depth - 1)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self._fragment(selection.name.value, parent, nesting, candidates)
                part = Tally(inner.cost, inner.photos, inner.depth - 1)
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            cost = self._charge(cost + part.cost)
            photos += part.photos
            depth = max(depth, part.depth)
        return Tally(cost, photos, depth + 1)

    def _fragment(self, name: str, parent: GraphQLNamedType, nesting: int, candidates: int) -> Tally:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._open:
            return Tally(depth=1)  # unknown or cyclic: reported by the standard rules
        key = (name, candidates)
        if (known := self._fragment_tallies.get(key)) is None:
            target = self.schema.get_type(fragment.type_condition.name.value) or parent
            with self._opening(name):
                known = self._fragment_tallies[key] = self._selections(
                    fragment.selection_set, target, nesting, candidates
                )
        if nesting + known.depth - 1 > MAX_NESTING:
            raise TooDeep(nesting + known.depth - 1, MAX_NESTING)
        return known

    def _field(self, node: FieldNode, parent: GraphQLNamedType, nesting: int, candidates: int) -> Tally:
        name = node.name.value
        if name == "__typename":
            return Tally()  # answered from the type itself, with no resolver
        if name in ("__schema", "__type"):
            return Tally(self._introspection_root(node, nesting))
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) or name not in parent.fields:
            return Tally()  # unknown fields are the standard rules' to report
        field = parent.fields[name]
        contract = cost_of(field)
        photos = int(contract.photo is not None and _argument(node, contract.photo, self.variables) is not None)
        inner = Tally(depth=0)
        if node.selection_set is not None:
            child = get_named_type(field.type)
            under = self._candidates(contract, node, candidates)
            inner = self._selections(node.selection_set, child, nesting + 1, under)
        length = self._length(contract, node, candidates)
        cost = self._charge(length * (contract.own + inner.cost))
        return Tally(cost, photos + inner.photos, inner.depth)

    def _length(self, contract: Cost, node: FieldNode, candidates: int) -> int:
        """The most items the field can hold, for the multiplication."""
        if contract.length == "page":
            first, last = _argument(node, "first", self.variables), _argument(node, "last", self.variables)
            return _int(last if last is not None else first, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
        if contract.length == "candidates":
            return candidates
        if isinstance(contract.length, int) and contract.shortened_by is not None:
            return _int(_argument(node, contract.shortened_by, self.variables), contract.length, contract.length)
        return 1 if contract.length is None else contract.length

    def _candidates(self, contract: Cost, node: FieldNode, inherited: int) -> int:
        """How many candidates the verifications under this field hold."""
        if contract.candidates == "limit":
            return _int(_argument(node, "limit", self.variables), SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX)
        return inherited if contract.candidates is None else contract.candidates

    # Introspection: the schema's own elements, each list as long as it really is.

    def _introspection_root(self, node: FieldNode, nesting: int) -> int:
        if node.name.value == "__schema":
            value: object = self.schema
            kind = "__Schema"
        else:
            wanted = _argument(node, "name", self.variables)
            value = self.schema.get_type(wanted) if isinstance(wanted, str) else None
            kind = "__Type"
        if value is None or node.selection_set is None:
            return 1
        return self._charge(1 + self._introspected(node.selection_set, kind, value, nesting + 1))

    def _introspected(self, selections: SelectionSetNode, kind: str, value: object, nesting: int) -> int:
        """The cost of `selections` on one schema element (`value`, of introspection type `kind`)."""
        if nesting > MAX_NESTING:
            raise TooDeep(nesting, MAX_NESTING)
        key = (id(selections), kind, id(value))
        if (known := self._introspection_costs.get(key)) is not None:
            return known
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                part = self._introspected_field(selection, kind, value, nesting)
            elif isinstance(selection, InlineFragmentNode):
                part = self._introspected(selection.selection_set, kind, value, nesting)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None or selection.name.value in self._open:
                    continue
                with self._opening(selection.name.value):
                    part = self._introspected(fragment.selection_set, kind, value, nesting)
            else:  # pragma: no cover
                continue
            total = self._charge(total + part)
        self._introspection_costs[key] = total
        return total

    def _introspected_field(self, node: FieldNode, kind: str, value: object, nesting: int) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        child = _INTROSPECTION_CHILDREN.get(kind, {}).get(name)
        if child is None or node.selection_set is None:
            return 1  # a name, a description, a flag: one value
        child_kind, children_of = child
        children = children_of(self.schema, value)
        items = children if isinstance(children, list) else [] if children is None else [children]
        total = 1
        for item in items:
            total = self._charge(total + self._introspected(node.selection_set, child_kind, item, nesting + 1))
        return total


def _interfaces(schema: GraphQLSchema, value: object) -> list[object]:
    return list(value.interfaces) if isinstance(value, GraphQLObjectType | GraphQLInterfaceType) else []


def _possible_types(schema: GraphQLSchema, value: object) -> list[object]:
    if isinstance(value, GraphQLInterfaceType | GraphQLUnionType):
        return list(schema.get_possible_types(value))
    return []


def _enum_values(schema: GraphQLSchema, value: object) -> list[object]:
    return list(value.values.values()) if isinstance(value, GraphQLEnumType) else []


def _input_fields(schema: GraphQLSchema, value: object) -> list[object]:
    return list(value.fields.values()) if isinstance(value, GraphQLInputObjectType) else []


def _of_type(schema: GraphQLSchema, value: object) -> object:
    return value.of_type if isinstance(value, GraphQLWrappingType) else None


def _object_fields(schema: GraphQLSchema, value: object) -> list[object]:
    if isinstance(value, GraphQLObjectType | GraphQLInterfaceType):
        return list(value.fields.values())
    return []


Children = Callable[[GraphQLSchema, Any], object]
# introspection type -> field -> (the introspection type of what it holds, what it holds for a value)
_INTROSPECTION_CHILDREN: dict[str, dict[str, tuple[str, Children]]] = {
    "__Schema": {
        "types": ("__Type", lambda schema, _: list(schema.type_map.values())),
        "queryType": ("__Type", lambda schema, _: schema.query_type),
        "mutationType": ("__Type", lambda schema, _: schema.mutation_type),
        "subscriptionType": ("__Type", lambda schema, _: schema.subscription_type),
        "directives": ("__Directive", lambda schema, _: list(schema.directives)),
    },
    "__Type": {
        "fields": ("__Field", _object_fields),
        "interfaces": ("__Type", _interfaces),
        "possibleTypes": ("__Type", _possible_types),
        "enumValues": ("__EnumValue", _enum_values),
        "inputFields": ("__InputValue", _input_fields),
        "ofType": ("__Type", _of_type),
    },
    "__Field": {
        "args": ("__InputValue", lambda _, field: list(field.args.values())),
        "type": ("__Type", lambda _, field: field.type),
    },
    "__InputValue": {"type": ("__Type", lambda _, value: value.type)},
    "__Directive": {"args": ("__InputValue", lambda _, directive: list(directive.args.values()))},
}
