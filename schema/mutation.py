"""The Mutation root: every write. A failed mutation leaves the database as it was."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import faces, persons
from schema.inputs import ImageInput, PersonInput, PersonPatch
from schema.query import FaceId, PersonId
from schema.types import DeleteResult, Face, Person


@strawberry.type(description="Writes.")
class Mutation:
    @strawberry.mutation(description="Create a person (with no faces yet).")
    async def create_person(
        self, input: Annotated[PersonInput, strawberry.argument(description="The new person.")]
    ) -> Person:
        return await persons.create_person(input)

    @strawberry.mutation(description="Change a person's name, externalId or metadata.")
    async def update_person(
        self, id: PersonId, input: Annotated[PersonPatch, strawberry.argument(description="The changes.")]
    ) -> Person:
        return await persons.update_person(id, input)

    @strawberry.mutation(description="Delete a person and all of their faces.")
    async def delete_person(self, info: strawberry.Info, id: PersonId) -> DeleteResult:
        return await persons.delete_person(info.context, id)

    @strawberry.mutation(
        description="Enrol a face photo for a person. The largest face in the photo is used, "
        "unless rejectMultiple asks for exactly one."
    )
    async def create_face(
        self,
        info: strawberry.Info,
        person_id: PersonId,
        image: Annotated[ImageInput, strawberry.argument(description="The photo to enrol.")],
        reject_multiple: Annotated[
            bool, strawberry.argument(description="Fail with TOO_MANY_FACES when the photo holds several faces.")
        ] = False,
    ) -> Face:
        return await faces.create_face(info.context, person_id, image, reject_multiple)

    @strawberry.mutation(description="Move a face to another person, or replace its photo (re-embedded), or both.")
    async def update_face(
        self,
        info: strawberry.Info,
        id: FaceId,
        person_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The person to move the face to.")
        ] = None,
        image: Annotated[
            ImageInput | None, strawberry.argument(description="A new photo that replaces the old one.")
        ] = None,
    ) -> Face:
        return await faces.update_face(info.context, id, person_id, image)

    @strawberry.mutation(description="Delete one face.")
    async def delete_face(self, info: strawberry.Info, id: FaceId) -> DeleteResult:
        return await faces.delete_face(info.context, id)
