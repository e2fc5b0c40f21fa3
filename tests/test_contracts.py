"""Every field declares its whole contract where it is defined (schema/contract.py); a walk of the schema proves it.

A field that takes a photo must name the argument (one photo per operation, costed); a list
of objects must bound its length (the cost multiplies by it); a field answering with
verifications must say how many candidates each holds; every mutation, and every query
that runs the models or answers who someone is, must say whether it is audited.
"""

from __future__ import annotations

import inspect
from typing import Annotated

import strawberry
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    get_named_type,
)

from auth.scopes import Scope
from schema.contract import audit_of, cost_of
from schema.inputs import ImageInput
from schema.root import schema as face_schema
from schema.scoped import scoped_field, scoped_mutation

ROOTS = ("Query", "Mutation", "Subscription")


def _list_of_objects(kind: GraphQLType) -> bool:
    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList) and isinstance(get_named_type(kind), GraphQLObjectType | GraphQLInterfaceType)


def _fields(schema: GraphQLSchema) -> list[tuple[str, str, GraphQLField]]:
    return [
        (kind.name, name, field)
        for kind in schema.type_map.values()
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType) and not kind.name.startswith("__")
        for name, field in kind.fields.items()
    ]


def undeclared(schema: GraphQLSchema) -> list[str]:
    """What the schema's fields leave undeclared, one line each."""
    problems = []
    for parent, name, field in _fields(schema):
        where, cost = f"{parent}.{name}", cost_of(field)
        photos = [arg for arg, value in field.args.items() if get_named_type(value.type).name == "ImageInput"]
        if photos and cost.photo not in photos:
            problems.append(f"{where} takes a photo ({photos[0]}) but does not declare it: Cost(photo=...)")
        if _list_of_objects(field.type) and cost.length is None:
            problems.append(f"{where} is a list but declares no length: Cost(length=...)")
        answers_verifications = get_named_type(field.type).name == "Verification"
        if answers_verifications and parent in ROOTS and cost.candidates is None:
            problems.append(f"{where} answers verifications but declares no candidates: Cost(candidates=...)")
        must_audit = parent == "Mutation" or (parent in ROOTS and (photos or answers_verifications))
        if must_audit and audit_of(field) is None:
            problems.append(f"{where} writes or verifies but does not say whether it is audited: audited=...")
    return problems


def test_every_field_of_the_schema_declares_its_contract() -> None:
    assert undeclared(face_schema._schema) == []


def test_the_walk_catches_a_photo_field_and_a_mutation_that_declare_nothing() -> None:
    @strawberry.type
    class Query:
        @scoped_field(Scope.VERIFY, "Looks at a photo, declaring nothing more.")
        def look(self, image: Annotated[ImageInput, strawberry.argument()]) -> int:
            return 0

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def forget(self) -> int:
            return 0

    problems = undeclared(strawberry.Schema(query=Query, mutation=Mutation)._schema)
    assert any(line.startswith("Query.look takes a photo") for line in problems), problems
    assert any(line.startswith("Query.look writes or verifies") for line in problems), problems
    assert any(line.startswith("Mutation.forget writes or verifies") for line in problems), problems


def test_a_mutation_cannot_be_declared_without_its_audit_decision() -> None:
    assert inspect.signature(scoped_mutation).parameters["audited"].default is inspect.Parameter.empty
