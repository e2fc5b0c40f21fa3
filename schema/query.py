"""The Query root: reads, and the two verification questions (which write nothing)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import faces, persons, verification
from resolvers.context import Info
from schema.inputs import ImageInput
from schema.types import Embedding, Face, FaceConnection, ModelInfo, Person, PersonConnection, Verification
from settings import PAGE_SIZE_MAX, SEARCH_LIMIT_MAX

PageSize = Annotated[int, strawberry.argument(description=f"Page size, 1 to {PAGE_SIZE_MAX}.")]
After = Annotated[
    str | None, strawberry.argument(description="Return items after this cursor (a previous page's endCursor).")
]
Image = Annotated[
    ImageInput,
    strawberry.argument(
        description="The probe photo; its subject is used (the largest face, less a penalty for distance "
        "from the centre)."
    ),
]
Threshold = Annotated[
    float | None,
    strawberry.argument(
        description="Distance threshold in (0, 2] for `match`; defaults to the model's, chosen on LFW. "
        "Not with maxFalseMatchRate."
    ),
]
MaxFalseMatchRate = Annotated[
    float | None,
    strawberry.argument(
        description="Instead of `threshold`: the highest acceptable false match rate in (0, 1), e.g. 0.001; "
        "the threshold applied is the largest whose rate on LFW is at most this (see `model.operatingPoints`). "
        "Both given: INVALID_INPUT."
    ),
]
PersonId = Annotated[strawberry.ID, strawberry.argument(description="The person's id.")]
FaceId = Annotated[strawberry.ID, strawberry.argument(description="The face's id.")]


@strawberry.type(description="Reads and verification.")
class Query:
    @strawberry.field(description="Persons, oldest first, as a Relay connection.")
    async def persons(
        self,
        info: Info,
        first: PageSize = 50,
        after: After = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only persons whose name contains this (any case) or whose externalId is it."
            ),
        ] = None,
    ) -> PersonConnection:
        return await persons.persons(info.context, first, after, search)

    @strawberry.field(description="One person, or null if the id names none.")
    async def person(self, id: PersonId) -> Person | None:
        return await persons.person(id)

    @strawberry.field(description="All enrolled faces, oldest first, as a Relay connection.")
    async def faces(self, info: Info, first: PageSize = 50, after: After = None) -> FaceConnection:
        return await faces.faces(info.context, first, after)

    @strawberry.field(description="One face, or null if the id names none.")
    async def face(self, id: FaceId) -> Face | None:
        return await faces.face(id)

    @strawberry.field(description="A person's faces, oldest first; NOT_FOUND if the person does not exist.")
    async def faces_by_person(self, info: Info, person_id: PersonId) -> list[Face]:
        return await faces.faces_by_person(info.context, person_id)

    @strawberry.field(
        description="Who is this? (1:K) Compares the probe's face with every stored face (exact search) "
        "and returns the nearest persons. Writes nothing."
    )
    async def verify_linear(
        self,
        info: Info,
        image: Image,
        threshold: Threshold = None,
        limit: Annotated[
            int, strawberry.argument(description=f"How many candidates to return, 1 to {SEARCH_LIMIT_MAX}.")
        ] = 5,
        max_false_match_rate: MaxFalseMatchRate = None,
    ) -> Verification:
        return await verification.verify_linear(info.context, image, threshold, max_false_match_rate, limit)

    @strawberry.field(
        description="Is this person X? (1:1) Compares the probe's face with that person's faces only. Writes nothing."
    )
    async def verify_person(
        self,
        info: Info,
        person_id: PersonId,
        image: Image,
        threshold: Threshold = None,
        max_false_match_rate: MaxFalseMatchRate = None,
    ) -> Verification:
        return await verification.verify_person(info.context, person_id, image, threshold, max_false_match_rate)

    @strawberry.field(description="A stored face's embedding vector and the model that made it.")
    async def face_embedding(self, face_id: FaceId) -> Embedding:
        return await faces.face_embedding(face_id)

    @strawberry.field(description="The embedding model in use, its threshold and operating points.")
    def model(self, info: Info) -> ModelInfo:
        return verification.model_info(info.context)
