"""The Mutation root: every write. A failed mutation leaves the database as it was."""

from __future__ import annotations

from typing import Annotated

import strawberry

from auth.rate import RateKind
from auth.scopes import Scope
from bounds import API_KEY_NAME_MAX, FACES_PER_PERSON_MAX, REEMBED_BATCH_MAX
from ml.pipeline import PICK_MIN_IOU
from resolvers import admin, faces, live, merge, persons, reembed, restore
from resolvers.context import Info
from schema.collections import CollectionArgument, CollectionMutation
from schema.contract import Cost
from schema.enums import ApiScopeEnum
from schema.inputs import BoxInput, ImageInput, PersonInput, PersonPatch, RestoredFace, RestoredPerson
from schema.jobs import JobMutation
from schema.live_types import LiveFrameReceipt, Stream
from schema.liveness import LivenessMutation
from schema.query import FaceId, PersonId
from schema.scoped import scoped_mutation
from schema.types import ApiKey, DeleteResult, Face, NewApiKey, Person, Reembedded

AllowLowQuality = Annotated[
    bool,
    strawberry.argument(
        description="Enrol the face even when it is below the enrolment minimums (too small, blurred, turned "
        "away, or an unsure detection) instead of failing with LOW_QUALITY. Such faces match less reliably."
    ),
]


@strawberry.type(description="Writes.")
class Mutation(CollectionMutation, JobMutation, LivenessMutation):
    @scoped_mutation(
        Scope.ENROL,
        "Create a person (with no faces yet) in a collection; a full one (maxPersons) is LIMIT_REACHED.",
        audited=True,
    )
    async def create_person(
        self,
        info: Info,
        input: Annotated[PersonInput, strawberry.argument(description="The new person.")],
        collection: CollectionArgument = None,
    ) -> Person:
        row = await persons.create_person(info.context, input.name, input.external_id, input.metadata, collection)
        return Person.from_row(row)

    @scoped_mutation(Scope.ENROL, "Change a person's name, externalId or metadata.", audited=True)
    async def update_person(
        self, info: Info, id: PersonId, input: Annotated[PersonPatch, strawberry.argument(description="The changes.")]
    ) -> Person:
        return Person.from_row(await persons.update_person(info.context, id, input.changes()))

    @scoped_mutation(
        Scope.ENROL,
        "Merge two records of one person: every face of `from` moves to `into` (ids, embeddings and crops kept, "
        "nothing embedded again) and `from` is deleted; `into` keeps its name, externalId and metadata and is "
        f"returned. Both are in one collection, and together hold at most {FACES_PER_PERSON_MAX} faces. The key "
        "needs DELETE too.",
        audited=True,
    )
    async def merge_persons(
        self,
        info: Info,
        into: Annotated[strawberry.ID, strawberry.argument(description="The person who stays.")],
        from_: Annotated[
            strawberry.ID, strawberry.argument(name="from", description="The person whose faces move, then deleted.")
        ],
    ) -> Person:
        return Person.from_row(await merge.merge_persons(info.context, into, from_))

    @scoped_mutation(
        Scope.DELETE, "Delete a person and all of their faces, leaving no copy in the database.", audited=True
    )
    async def delete_person(self, info: Info, id: PersonId) -> DeleteResult:
        return DeleteResult.of(await persons.delete_person(info.context, id))

    @scoped_mutation(
        Scope.ENROL,
        "Enrol a face photo for a person. The photo's subject is used (the largest face, "
        "less a penalty for distance from the centre), unless `face` names another or rejectMultiple asks for "
        "exactly one (TOO_MANY_FACES then lists every face's box, to choose from). A face below "
        f"the enrolment minimums fails with LOW_QUALITY unless allowLowQuality is true. A person has at most "
        f"{FACES_PER_PERSON_MAX} faces; a full collection (maxFaces) is LIMIT_REACHED.",
        rate=RateKind.ENROL,
        cost=Cost(photo="image"),
        audited=True,
    )
    async def create_face(
        self,
        info: Info,
        person_id: PersonId,
        image: Annotated[ImageInput, strawberry.argument(description="The photo to enrol.")],
        reject_multiple: Annotated[
            bool, strawberry.argument(description="Fail with TOO_MANY_FACES when the photo holds several faces.")
        ] = False,
        allow_low_quality: AllowLowQuality = False,
        reject_if_matches_other: Annotated[
            bool,
            strawberry.argument(
                description="Fail with MATCHES_OTHER_PERSON, enrolling nothing, when the face matches another "
                "person at the shipped threshold (otherwise that is a warning in `warnings`)."
            ),
        ] = False,
        reject_if_same_image: Annotated[
            bool,
            strawberry.argument(
                description="Fail with SAME_IMAGE_ENROLLED, enrolling nothing, when these exact bytes are already "
                "a face of the collection (otherwise that is a warning in `warnings`)."
            ),
        ] = False,
        face: Annotated[
            BoxInput | None,
            strawberry.argument(
                description="The face of a group photo to enrol, as a box of TOO_MANY_FACES's `extensions.faces` "
                "or of detectFaces for the same photo: the face found there is enrolled (NO_FACE when no face "
                f"overlaps the box by {PICK_MIN_IOU:.0%} or more, intersection over union). rejectMultiple is "
                "then moot."
            ),
        ] = None,
    ) -> Face:
        enrolled = await faces.create_face(
            info.context,
            person_id,
            image.to_photo(),
            reject_multiple=reject_multiple,
            allow_low_quality=allow_low_quality,
            reject_if_matches_other=reject_if_matches_other,
            reject_if_same_image=reject_if_same_image,
            face=None if face is None else face.to_box(),
        )
        return Face.from_row(enrolled.row, enrolled.warnings)

    @scoped_mutation(
        Scope.ENROL,
        "Move a face to another person of its collection, or replace its photo (re-embedded), or both.",
        rate=RateKind.ENROL,
        cost=Cost(photo="image"),
        audited=True,
    )
    async def update_face(
        self,
        info: Info,
        id: FaceId,
        person_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The person to move the face to.")
        ] = None,
        image: Annotated[
            ImageInput | None, strawberry.argument(description="A new photo that replaces the old one.")
        ] = None,
        allow_low_quality: AllowLowQuality = False,
    ) -> Face:
        photo = None if image is None else image.to_photo()
        return Face.from_row(await faces.update_face(info.context, id, person_id, photo, allow_low_quality))

    @scoped_mutation(Scope.DELETE, "Delete one face, leaving no copy in the database.", audited=True)
    async def delete_face(self, info: Info, id: FaceId) -> DeleteResult:
        return DeleteResult.of(await faces.delete_face(info.context, id))

    @scoped_mutation(
        Scope.ADMIN, "Create an API key with the given scopes; its secret is in the answer, only there.", audited=True
    )
    async def create_api_key(
        self,
        info: Info,
        name: Annotated[
            str, strawberry.argument(description=f"What the key is for, 1 to {API_KEY_NAME_MAX} characters.")
        ],
        scopes: Annotated[
            list[ApiScopeEnum],
            strawberry.argument(description="What the key may do (at least one)."),
        ],
        collections: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="The collections the key may see (at least one); everything outside them is NOT_FOUND "
                "to it. Left out or null: every collection, which only a key bound to none may give."
            ),
        ] = None,
    ) -> NewApiKey:
        wanted = [Scope(scope.value) for scope in scopes]
        bound = None if collections is None else [str(collection) for collection in collections]
        return NewApiKey.of(await admin.create_api_key(info.context, name, wanted, bound))

    @scoped_mutation(
        Scope.ADMIN, "Revoke an API key: it stops working at once. Revoking twice is harmless.", audited=True
    )
    async def revoke_api_key(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The key's id.")]
    ) -> ApiKey:
        return ApiKey.from_row(await admin.revoke_api_key(info.context, id))

    @scoped_mutation(
        Scope.ADMIN,
        "Put back a person written by `faceid export`, with its id and times. A person whose id exists is left "
        "as it is (restoring twice is harmless).",
        audited=True,
    )
    async def restore_person(
        self,
        info: Info,
        input: Annotated[RestoredPerson, strawberry.argument(description="The exported person.")],
        collection: CollectionArgument = None,
    ) -> Person:
        return Person.from_row(await restore.restore_person(info.context, input.exported(), collection))

    @scoped_mutation(
        Scope.ADMIN,
        "Put back a face written by `faceid export`: embedding, crop, box, quality, id and time as they were; "
        "nothing is recomputed. A face whose id exists is left as it is.",
        audited=True,
    )
    async def restore_face(
        self, info: Info, input: Annotated[RestoredFace, strawberry.argument(description="The exported face.")]
    ) -> Face:
        return Face.from_row(await restore.restore_face(info.context, input.exported()))

    @scoped_mutation(
        Scope.ADMIN,
        "Embed again, with this server's model, faces stored by another (after EMBEDDER or FACE_DETECTOR "
        "changed): each face's stored crop is run through this server's detector and embedder, and the face "
        "takes the new embedding and model id; its crop, box and quality stay as enrolled. Faces go in id "
        "order, `limit` a call, after the face `after`; `faceid reembed` walks the whole gallery.",
        audited=True,
    )
    async def reembed_faces(
        self,
        info: Info,
        after: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Start after this face (the previous batch's `lastId`)."),
        ] = None,
        limit: Annotated[int, strawberry.argument(description=f"Faces to look at, 1 to {REEMBED_BATCH_MAX}.")] = 100,
    ) -> Reembedded:
        return Reembedded.of(await reembed.reembed_faces(info.context, after, limit))

    @scoped_mutation(
        Scope.VERIFY,
        "One camera frame for the live stream `stream` that liveRecognition (or livenessCheck: the session's id) "
        "opened on this same WebSocket "
        "connection (elsewhere: NOT_FOUND). Answers at once; the frame's faces come on the subscription. A frame "
        "that is still waiting when the next arrives is dropped (`replacedFrame`); one numbered at or below a "
        "frame already taken is turned away (`accepted: false`). Writes nothing and is not audited.",
        rate=RateKind.LIVE_FRAMES,
        cost=Cost(photo="image"),
        audited=False,  # a frame writes nothing; the stream's open is audited (liveRecognition)
    )
    async def send_live_frame(
        self,
        info: Info,
        stream: Stream,
        frame: Annotated[
            int, strawberry.argument(description="The frame's number, echoed in its answer (e.g. a counter).")
        ],
        image: Annotated[ImageInput, strawberry.argument(description="The frame: a JPEG of about 640x480.")],
    ) -> LiveFrameReceipt:
        return LiveFrameReceipt.of(await live.send_live_frame(info.context, stream, frame, image.to_photo()))
