"""The Query root: reads, and the two verification questions (which write nothing)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from auth.rate import RateKind
from auth.scopes import Scope
from bounds import (
    FACES_PER_PERSON_MAX,
    FACES_PER_PHOTO_MAX,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    SEARCH_LIMIT_DEFAULT,
    SEARCH_LIMIT_MAX,
)
from errors import ERROR_DESCRIPTIONS
from models import Person as PersonRow
from resolvers import admin, faces, persons, recognition, verification
from resolvers.context import Info
from resolvers.pagination import Page
from resolvers.verification import Cutoff
from schema.collections import CollectionArgument, CollectionQuery
from schema.contract import Cost
from schema.inputs import ImageInput
from schema.jobs import JobQuery
from schema.scoped import keyed_field, scoped_field
from schema.types import (
    ApiKey,
    AuditEntry,
    AuditEntryConnection,
    DetectedFace,
    EmbeddedFace,
    Embedding,
    ErrorDescription,
    Face,
    FaceConnection,
    Me,
    ModelInfo,
    Node,
    Person,
    PersonConnection,
    Verification,
)
from weights import EMBEDDERS

PageSize = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page size from the start (or `after`), 1 to {PAGE_SIZE_MAX}; null or left out: "
        f"{PAGE_SIZE_DEFAULT}, unless `last` is given."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(description=f"Instead of `first`: page size from the end (or `before`), 1 to {PAGE_SIZE_MAX}."),
]
Before = Annotated[
    str | None, strawberry.argument(description="Return items before this cursor (a page's startCursor).")
]
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
Exact = Annotated[
    bool,
    strawberry.argument(
        description="true: compare with every stored face of the collection. false: with SEARCH_BACKEND=pgvector, "
        "search the HNSW index instead (milliseconds at millions of faces; recall@1 against exact search in "
        "bench/results/scale.md), unless the collection holds at most HNSW_MIN_FACES faces (exact search is faster "
        "there); the memory backend always searches exactly."
    ),
]
Threshold = Annotated[
    float | None,
    strawberry.argument(
        description="Distance threshold for `match`, in (0, model.maxThreshold]; defaults to the model's, chosen "
        "on LFW. Not with maxFalseMatchRate or maxFalsePositiveIdentificationRate."
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
MaxFalsePositiveIdentificationRate = Annotated[
    float | None,
    strawberry.argument(
        description="Instead of `threshold`: the highest acceptable false positive identification rate in (0, 1), "
        "e.g. 0.01: how often a stranger may be matched to one of the persons searched. The threshold applied is "
        "the one whose LFW false match rate gives this rate over this gallery's persons (1 - (1 - FMR)^N), so it "
        "tightens as the gallery grows. Not with `threshold` or `maxFalseMatchRate`."
    ),
]
Limit = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many candidates to return, 1 to {SEARCH_LIMIT_MAX}; null or left out: {SEARCH_LIMIT_DEFAULT}."
    ),
]
PersonId = Annotated[strawberry.ID, strawberry.argument(description="The person's id.")]
FaceId = Annotated[strawberry.ID, strawberry.argument(description="The face's id.")]


@strawberry.type(description="Reads and verification.")
class Query(CollectionQuery, JobQuery):
    @scoped_field(Scope.READ, "A collection's persons, oldest first, as a Relay connection.", cost=Cost(length="page"))
    async def persons(
        self,
        info: Info,
        first: PageSize = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only persons whose name contains this (any case) or whose externalId is it."
            ),
        ] = None,
        collection: CollectionArgument = None,
    ) -> PersonConnection:
        page = await persons.persons(info.context, Page(first, after, last, before), search, collection)
        return PersonConnection.of(page, Person.from_row)

    @scoped_field(
        Scope.READ, "The person or face with this id (Relay's node), or null if it names none this key may see."
    )
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A person's or face's id.")]
    ) -> Node | None:
        row = await persons.node(info.context, id)
        if row is None:
            return None
        return Person.from_row(row) if isinstance(row, PersonRow) else Face.from_row(row)

    @scoped_field(Scope.READ, "One person (of any collection this key may see), or null if the id names none.")
    async def person(self, info: Info, id: PersonId) -> Person | None:
        row = await persons.person(info.context, id)
        return None if row is None else Person.from_row(row)

    @scoped_field(
        Scope.READ, "A collection's enrolled faces, oldest first, as a Relay connection.", cost=Cost(length="page")
    )
    async def faces(
        self,
        info: Info,
        first: PageSize = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        collection: CollectionArgument = None,
    ) -> FaceConnection:
        page = await faces.faces(info.context, Page(first, after, last, before), collection)
        return FaceConnection.of(page, Face.from_row)

    @scoped_field(Scope.READ, "One face (of any collection this key may see), or null if the id names none.")
    async def face(self, info: Info, id: FaceId) -> Face | None:
        row = await faces.face(info.context, id)
        return None if row is None else Face.from_row(row)

    @scoped_field(
        Scope.READ,
        "A person's faces, oldest first; NOT_FOUND if the person does not exist.",
        cost=Cost(length=FACES_PER_PERSON_MAX),
    )
    async def faces_by_person(self, info: Info, person_id: PersonId) -> list[Face]:
        return [Face.from_row(row) for row in await faces.faces_by_person(info.context, person_id)]

    @scoped_field(
        Scope.VERIFY,
        "Who is this? (1:K) Compares the probe's face with every stored face (exact search unless "
        "`exact: false`) and returns the nearest persons. Writes nothing.",
        rate=RateKind.VERIFY,
        cost=Cost(photo="image", candidates="limit"),
        audited=True,
    )
    async def verify_linear(
        self,
        info: Info,
        image: Image,
        threshold: Threshold = None,
        limit: Limit = SEARCH_LIMIT_DEFAULT,
        max_false_match_rate: MaxFalseMatchRate = None,
        exact: Exact = True,
        max_false_positive_identification_rate: MaxFalsePositiveIdentificationRate = None,
        collection: CollectionArgument = None,
    ) -> Verification:
        cutoff = Cutoff(threshold, max_false_match_rate, max_false_positive_identification_rate)
        options = await verification.search_options(info.context, cutoff, limit, exact, collection)
        return Verification.of(await verification.verify_linear(info.context, image.to_photo(), options))

    @scoped_field(
        Scope.VERIFY,
        "Is this person X? (1:1) Compares the probe's face with that person's faces only. Writes nothing.",
        rate=RateKind.VERIFY,
        cost=Cost(photo="image", candidates=SEARCH_LIMIT_MAX),  # every face of the person compared
        audited=True,
    )
    async def verify_person(
        self,
        info: Info,
        person_id: PersonId,
        image: Image,
        threshold: Threshold = None,
        max_false_match_rate: MaxFalseMatchRate = None,
    ) -> Verification:
        cutoff = Cutoff(threshold, max_false_match_rate)
        return Verification.of(await verification.verify_person(info.context, person_id, image.to_photo(), cutoff))

    @scoped_field(
        Scope.VERIFY,
        f"Every face in the photo (the {FACES_PER_PHOTO_MAX} largest), left to right: box, landmarks, score and "
        "quality. An empty list when there is none. Stores and searches nothing.",
        rate=RateKind.VERIFY,
        cost=Cost(photo="image", length=FACES_PER_PHOTO_MAX),
        audited=False,  # it stores and searches nothing: no person is named
    )
    async def detect_faces(
        self, info: Info, image: Annotated[ImageInput, strawberry.argument(description="The photo.")]
    ) -> list[DetectedFace]:
        return [DetectedFace.of(face) for face in await recognition.detect_faces(info.context, image.to_photo())]

    @scoped_field(
        Scope.BIOMETRICS,
        f"The embedding of every face in the photo (the {FACES_PER_PHOTO_MAX} largest), left to right, as enrolment "
        "would compute it, with the model that made it; stores and searches nothing (deepface's `represent`). For "
        "clients that keep their own vector store; searchByEmbedding takes the vectors back. All faces are embedded "
        "in one model call. Needs BIOMETRICS: an embedding is biometric data.",
        rate=RateKind.VERIFY,
        cost=Cost(photo="image", length=FACES_PER_PHOTO_MAX),
        audited=True,
    )
    async def embed_faces(
        self,
        info: Info,
        image: Annotated[ImageInput, strawberry.argument(description="The photo.")],
        model: Annotated[
            str | None,
            strawberry.argument(
                description="A model this server has loaded (`models`), by id or EMBEDDERS name; left out: the "
                "default (`model`)."
            ),
        ] = None,
    ) -> list[EmbeddedFace]:
        embedded = await recognition.embed_faces(info.context, image.to_photo(), model)
        return [EmbeddedFace.of(face, embedded.model) for face in embedded.faces]

    @scoped_field(
        Scope.VERIFY,
        f"Who is each of these? (1:K for every face in the photo, the {FACES_PER_PHOTO_MAX} largest, left to right.) "
        "One entry per face, as verifyLinear answers for one; `probe` is the face. All faces are embedded in one "
        "model call. Writes nothing.",
        rate=RateKind.VERIFY,
        cost=Cost(photo="image", length=FACES_PER_PHOTO_MAX, candidates="limit"),
        audited=True,
    )
    async def recognize_faces(
        self,
        info: Info,
        image: Annotated[ImageInput, strawberry.argument(description="The photo, e.g. a group photo.")],
        threshold: Threshold = None,
        limit: Limit = SEARCH_LIMIT_DEFAULT,
        max_false_match_rate: MaxFalseMatchRate = None,
        exact: Exact = True,
        max_false_positive_identification_rate: MaxFalsePositiveIdentificationRate = None,
        collection: CollectionArgument = None,
    ) -> list[Verification]:
        cutoff = Cutoff(threshold, max_false_match_rate, max_false_positive_identification_rate)
        options = await verification.search_options(info.context, cutoff, limit, exact, collection)
        verdicts = await recognition.recognize_faces(info.context, image.to_photo(), options)
        return [Verification.of(verdict) for verdict in verdicts]

    @scoped_field(
        Scope.BIOMETRICS,
        "Who is this, from an embedding computed elsewhere with the same model (`model.name`)? Answers as "
        "verifyLinear, with a null probe. The vector is normalised to unit length; another model or length: "
        "INVALID_INPUT. Needs BIOMETRICS: a chosen vector and exact distances would rebuild stored embeddings.",
        rate=RateKind.VERIFY,
        cost=Cost(candidates="limit"),
        audited=True,
    )
    async def search_by_embedding(
        self,
        info: Info,
        vector: Annotated[list[float], strawberry.argument(description="The embedding (`model.dimension` numbers).")],
        model: Annotated[str, strawberry.argument(description="The id of the model that made it (`model.name`).")],
        threshold: Threshold = None,
        limit: Limit = SEARCH_LIMIT_DEFAULT,
        max_false_match_rate: MaxFalseMatchRate = None,
        exact: Exact = True,
        max_false_positive_identification_rate: MaxFalsePositiveIdentificationRate = None,
        collection: CollectionArgument = None,
    ) -> Verification:
        cutoff = Cutoff(threshold, max_false_match_rate, max_false_positive_identification_rate)
        options = await verification.search_options(info.context, cutoff, limit, exact, collection)
        return Verification.of(await recognition.search_by_embedding(info.context, vector, model, options))

    @scoped_field(Scope.BIOMETRICS, "A stored face's embedding vector and the model that made it.")
    async def face_embedding(self, info: Info, face_id: FaceId) -> Embedding:
        return Embedding.from_row(await faces.face_embedding(info.context, face_id))

    @keyed_field("The API key this request is made with: its name and what it may do.")
    def me(self, info: Info) -> Me:
        principal = info.context.principal
        assert principal is not None  # keyed_field refused the request otherwise
        return Me.of(principal)

    @scoped_field(
        Scope.READ,
        "The default embedding model (new collections' and `default`'s unless they name another), its threshold "
        "and operating points. A collection is searched with its own (`Collection.model`; `models`).",
    )
    def model(self, info: Info) -> ModelInfo:
        return ModelInfo.of(verification.model_info(info.context))

    @scoped_field(
        Scope.READ,
        "Every embedding model this server has loaded (EMBEDDER, then EMBEDDERS), the default first: what "
        "createCollection and reembedCollection take.",
        cost=Cost(length=len(EMBEDDERS)),
    )
    def models(self, info: Info) -> list[ModelInfo]:
        return [ModelInfo.of(model) for model in verification.models_info(info.context)]

    @scoped_field(
        Scope.ADMIN,
        "API keys (never their secrets), oldest first; for a key bound to collections, those bound within its own.",
        cost=Cost(length=PAGE_SIZE_MAX),
    )
    async def api_keys(
        self,
        info: Info,
        include_revoked: Annotated[bool, strawberry.argument(description="Also list revoked keys.")] = False,
    ) -> list[ApiKey]:
        return [ApiKey.from_row(row) for row in await admin.api_keys(info.context, include_revoked)]

    @scoped_field(
        Scope.ADMIN,
        "The audit log: every write and every verification, oldest first; entries older than "
        "AUDIT_RETENTION_DAYS are deleted. A key bound to collections reads the entries of the keys bound within "
        "its own collections.",
        cost=Cost(length="page"),
    )
    async def audit_log(
        self,
        info: Info,
        first: PageSize = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        operation: Annotated[
            str | None, strawberry.argument(description="Only this operation, e.g. `deletePerson`.")
        ] = None,
        key_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only calls made with this key.")
        ] = None,
    ) -> AuditEntryConnection:
        page = await admin.audit_log(info.context, Page(first, after, last, before), operation, key_id)
        return AuditEntryConnection.of(page, AuditEntry.from_row)

    @scoped_field(
        Scope.READ,
        "Every value of `extensions.code` with its meaning: the same as `enum ErrorCode`, reachable from an "
        "operation so that operation-based codegen emits the enum.",
        cost=Cost(length=len(ERROR_DESCRIPTIONS)),
    )
    def error_codes(self) -> list[ErrorDescription]:
        return [ErrorDescription(code=code, description=text) for code, text in ERROR_DESCRIPTIONS.items()]
