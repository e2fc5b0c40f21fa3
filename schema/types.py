"""Output types. Their descriptions are the API's documentation (GraphiQL's docs pane).

Each type builds itself from what the resolvers return: `from_row` from a database row,
`of` from a domain value (a verdict, a detection, a deletion).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar, cast

import numpy as np
import strawberry
from strawberry.scalars import JSON

from auth.access import granted_scopes
from auth.permissions import needs
from auth.scopes import Principal, Scope
from bounds import FACES_PER_PERSON_MAX, NAME_MAX, REEMBED_BATCH_MAX
from errors import invalid, not_found
from ml import detection, quality
from ml.pipeline import FaceEmbedding, LocatedFace
from models import ApiKey as ApiKeyRow
from models import AuditEntry as AuditRow
from models import Face as FaceRow
from models import Person as PersonRow
from resolvers.admin import IssuedKey
from resolvers.context import Info
from resolvers.enrolment import FaceWarning, WarningKind
from resolvers.pagination import PageOf, Row
from resolvers.reembed import Reembedding
from resolvers.verification import ModelDescription, ShownCandidate, Verdict
from resolvers.writes import Deletion
from schema.contract import CROP_COST, Cost, declared
from schema.enums import ApiScopeEnum, CalibrationSourceEnum, EnrolmentWarningCodeEnum, ErrorCodeEnum
from search.calibration import PRIOR_PERSONS, GalleryCalibration
from weights import EMBEDDERS
from weights.calibration import OPERATING_FMRS

LANDMARKS = 5  # eyes, nose, mouth corners
Item = TypeVar("Item")


@strawberry.type(description="A face's bounding box in the uploaded photo, in pixels, after EXIF rotation.")
class Box:
    x: int = strawberry.field(description="Left edge, pixels from the photo's left side.")
    y: int = strawberry.field(description="Top edge, pixels from the photo's top.")
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")

    @classmethod
    def of(cls, box: detection.Box) -> Box:
        return cls(x=box.x, y=box.y, width=box.width, height=box.height)


@strawberry.type(
    description="How usable a face is for recognition, measured when it was found. The enrolment minimums "
    "(server settings) apply to these; see ErrorCode LOW_QUALITY."
)
class FaceQuality:
    inter_eye_px: float = strawberry.field(
        description="Pixels between the eye centres in the photo (for the Haar detector, which gives no "
        "landmarks, 0.4 x the box width). Below the minimum: TOO_SMALL."
    )
    sharpness: float = strawberry.field(
        description="Variance of the Laplacian of the grey face crop the model sees; low means blurred or "
        "featureless. Below the minimum: BLURRED."
    )
    yaw_deg: float | None = strawberry.field(
        description="Estimated left/right turn of the head in degrees (0 faces the camera), from the landmarks; "
        "null without landmarks. Beyond the maximum either way: POSE."
    )
    roll_deg: float | None = strawberry.field(
        description="In-plane tilt of the line through the eyes, in degrees; null without landmarks."
    )
    detection_score: float | None = strawberry.field(
        description="The detector's confidence in [0, 1]; null for the Haar detector. Below the minimum: "
        "LOW_CONFIDENCE."
    )

    @classmethod
    def of(cls, measured: quality.FaceQuality) -> FaceQuality:
        return cls(
            inter_eye_px=measured.inter_eye_px,
            sharpness=measured.sharpness,
            yaw_deg=measured.yaw_deg,
            roll_deg=measured.roll_deg,
            detection_score=measured.detection_score,
        )


@strawberry.interface(
    description="An object with an id unique across the API (Relay's Node): a Person or a Face. "
    "`node(id:)` fetches either."
)
class Node:
    id: strawberry.ID = strawberry.field(description="The object's id, a UUID.")


@strawberry.type(description="A person: someone whose face photos are enrolled.")
class Person(Node):
    id: strawberry.ID = strawberry.field(description="The person's id, a UUID.")
    name: str = strawberry.field(description=f"Display name, 1 to {NAME_MAX} characters.")
    external_id: str | None = strawberry.field(
        description="The client's own id for this person (unique in its collection), if one was given."
    )
    collection_id: strawberry.ID = strawberry.field(description="The id of the collection the person is in.")
    metadata: JSON | None = strawberry.field(description="Free JSON object stored with the person.")
    created_at: datetime = strawberry.field(description="When the person was created (UTC).")
    updated_at: datetime = strawberry.field(description="When the person was last changed (UTC).")
    cover_face_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: PersonRow) -> Person:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            external_id=row.external_id,
            collection_id=strawberry.ID(str(row.collection_id)),
            metadata=cast(JSON, row.metadata),
            created_at=row.created_at,
            updated_at=row.updated_at,
            cover_face_id=str(row.cover_face_id) if row.cover_face_id else None,
        )

    @strawberry.field(description="How many faces are enrolled for this person.")
    async def face_count(self, info: Info) -> int:
        return await info.context.loaders.face_count.load(self.id)

    @strawberry.field(
        description=f"The person's enrolled faces, oldest first (at most {FACES_PER_PERSON_MAX}).",
        metadata=declared(Cost(length=FACES_PER_PERSON_MAX, shortened_by="first")),
    )
    async def faces(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="Only the oldest this many (1 or more), e.g. one for a list of persons' thumbnails; "
                "null: every face. The operation's cost counts this many."
            ),
        ] = None,
    ) -> list[Face]:
        if first is not None and first < 1:
            raise invalid("`first` must be 1 or more")
        rows = await info.context.loaders.faces_by_person.load(self.id)
        return [Face.from_row(row) for row in rows[:first]]

    @strawberry.field(
        description="The face to show for the person: the one chosen with updatePerson's `coverFaceId`, else "
        "(none chosen, or it was deleted or moved) their oldest; null while they have no face. A list of persons "
        "asks for this one face each rather than for `faces`."
    )
    async def cover_face(self, info: Info) -> Face | None:
        row = await info.context.loaders.cover_face.load((str(self.id), self.cover_face_id))
        return Face.from_row(row) if row else None


@strawberry.type(description="A warning about a face just enrolled; the face was enrolled all the same.")
class EnrolmentWarning:
    code: EnrolmentWarningCodeEnum = strawberry.field(description="What the warning is about.")
    message: str = strawberry.field(description="The warning, in words.")
    face_id: strawberry.ID | None = strawberry.field(description="The earlier or matching face.")
    person_id: strawberry.ID | None = strawberry.field(description="That face's person.")
    distance: float | None = strawberry.field(description="For MATCHES_OTHER_PERSON: the distance to that face.")

    @classmethod
    def of(cls, warning: FaceWarning) -> EnrolmentWarning:
        return cls(
            code=warning.kind,
            message=warning.message,
            face_id=strawberry.ID(warning.face_id),
            person_id=strawberry.ID(warning.person_id),
            distance=warning.distance,
        )


@strawberry.type(description="An enrolled face: one photo of a person, reduced to an embedding.")
class Face(Node):
    id: strawberry.ID = strawberry.field(description="The face's id, a UUID.")
    box: Box = strawberry.field(description="Where the face was found in the uploaded photo.")
    detection_score: float | None = strawberry.field(
        description="The detector's confidence in [0, 1]; null for detectors without one (Haar)."
    )
    detector: str = strawberry.field(
        description="The detector that found the face (FACE_DETECTOR): `yunet-onet`, `mtcnn`, `yunet`, `yunet-int8` or "
        "`haar`."
    )
    quality: FaceQuality | None = strawberry.field(
        description="The face's quality when it was enrolled; null for faces enrolled before quality was measured."
    )
    model: str = strawberry.field(description="Id of the embedding model that encoded the face.")
    created_at: datetime = strawberry.field(description="When the face was enrolled (UTC).")
    crop_jpeg_base64: str | None = strawberry.field(
        description="The face crop the model saw, as a base64 JPEG (160x160), to show what was enrolled; "
        "null when the server keeps no crops (STORE_FACE_CROPS=false). Scope: BIOMETRICS.",
        extensions=needs(Scope.BIOMETRICS),
        metadata=declared(Cost(own=CROP_COST)),
    )
    person_id: strawberry.ID = strawberry.field(description="The id of the person this face belongs to.")
    image_sha256: str = strawberry.field(
        description="SHA-256 of the photo's bytes as uploaded: lets a client skip photos already enrolled."
    )
    stored_embedding: strawberry.Private[bytes]
    warnings: list[EnrolmentWarning] = strawberry.field(
        default_factory=list,
        description="Warnings from the createFace call that returned this face (SAME_IMAGE_ENROLLED, "
        "MATCHES_OTHER_PERSON); always empty when the face is read later.",
        metadata=declared(Cost(length=len(WarningKind))),
    )

    @classmethod
    def from_row(cls, row: FaceRow, warnings: list[FaceWarning] | None = None) -> Face:
        measured = (
            None
            if row.sharpness is None or row.inter_eye_px is None
            else quality.FaceQuality(row.inter_eye_px, row.sharpness, row.yaw_deg, row.roll_deg, row.detection_score)
        )
        return cls(
            id=strawberry.ID(str(row.id)),
            box=Box(x=row.box_x, y=row.box_y, width=row.box_width, height=row.box_height),
            detection_score=row.detection_score,
            detector=row.detector,
            quality=None if measured is None else FaceQuality.of(measured),
            model=row.model,
            created_at=row.created_at,
            crop_jpeg_base64=base64.b64encode(row.crop_jpeg).decode("ascii") if row.crop_jpeg else None,
            person_id=strawberry.ID(str(row.person_id)),
            image_sha256=row.image_sha256,
            stored_embedding=row.embedding,
            warnings=[EnrolmentWarning.of(warning) for warning in warnings or ()],
        )

    @strawberry.field(
        description="Where to GET the crop as a JPEG (`/faces/{id}/crop.jpg`, with an ETag and Cache-Control), "
        "with the same key header; the key needs BIOMETRICS, as for cropJpegBase64. Null when no crop is kept."
    )
    def crop_url(self, info: Info) -> str | None:
        request = info.context.request
        if self.crop_jpeg_base64 is None or request is None:
            return None
        return str(request.url_for("face_crop", face_id=self.id))

    @strawberry.field(
        description="The face's embedding (unit length, `model`'s dimension), as faceEmbedding gives it. "
        "Scope: BIOMETRICS; without it the field is null with a FORBIDDEN error, and the rest of the answer "
        "stands (as for cropJpegBase64).",
        extensions=needs(Scope.BIOMETRICS),
        metadata=declared(Cost(own=CROP_COST)),
    )
    def embedding(self) -> list[float] | None:
        return np.frombuffer(self.stored_embedding, dtype="<f4").tolist()

    @strawberry.field(description="The person this face belongs to.")
    async def person(self, info: Info) -> Person:
        row = await info.context.loaders.person.load(self.person_id)
        if row is None:  # deleted since the face was read (its faces went with it)
            raise not_found("person", self.person_id)
        return Person.from_row(row)


@strawberry.type(description="A stored face that resembles the probe, with how close it is.")
class Candidate:
    person: Person = strawberry.field(description="The person the face belongs to.")
    face: Face = strawberry.field(description="The stored face nearest to the probe for this person.")
    distance: float = strawberry.field(
        description="Euclidean distance between the unit embeddings, in [0, 2]; smaller is closer. Exact for a "
        "key with BIOMETRICS; for any other rounded to 0.01 (exact distances to probes of the caller's choosing "
        "would rebuild a stored embedding), and `similarity` and `falseMatchRate` follow the rounded value."
    )
    similarity: float = strawberry.field(
        description="1 - distance^2 / 4, i.e. (1 + cosine) / 2: a monotone map of distance onto [0, 1], "
        "1 for identical embeddings. For display; decisions use distance and threshold."
    )
    false_match_rate: float | None = strawberry.field(
        description="How often two photos of different people are at least this close: the share of LFW's "
        "different-person photo pairs (about 29 million) whose distance is at or below this one, for this "
        "model. 0.001 means one such pair in a thousand. Null if the model has no calibration."
    )

    @classmethod
    def of(cls, shown: ShownCandidate) -> Candidate:
        return cls(
            person=Person.from_row(shown.person),
            face=Face.from_row(shown.face),
            distance=shown.distance,
            similarity=shown.similarity,
            false_match_rate=shown.false_match_rate,
        )


@strawberry.type(description="A point in the photo, in pixels (after EXIF rotation).")
class Point:
    x: float = strawberry.field(description="Pixels from the photo's left side.")
    y: float = strawberry.field(description="Pixels from the photo's top.")


@strawberry.type(description="A face found in a photo.")
class DetectedFace:
    box: Box = strawberry.field(description="Where the face is in the photo.")
    score: float | None = strawberry.field(description="The detector's confidence, if it gives one.")
    landmarks: list[Point] | None = strawberry.field(
        description="Five landmarks: the eye on the photo's left, the other eye, the nose, the mouth corner on the "
        "photo's left, the other corner. Null for the Haar detector, which finds none.",
        metadata=declared(Cost(length=LANDMARKS)),
    )
    quality: FaceQuality = strawberry.field(description="How usable the face is.")

    @classmethod
    def of(cls, face: LocatedFace) -> DetectedFace:
        found = face.detection
        return cls(
            box=Box.of(found.box),
            score=found.score,
            landmarks=None if found.landmarks is None else [Point(x=float(x), y=float(y)) for x, y in found.landmarks],
            quality=FaceQuality.of(face.quality),
        )


@strawberry.type(description="A face of a photo and its embedding, computed without storing or searching anything.")
class EmbeddedFace:
    face: DetectedFace = strawberry.field(description="Where the face is in the photo, and how usable it is.")
    model: str = strawberry.field(
        description="Id of the model that made the vector: searchByEmbedding takes it with the vector."
    )
    vector: list[float] = strawberry.field(
        description="The unit-length embedding (`model.dimension` numbers).", metadata=declared(Cost(own=CROP_COST))
    )

    @classmethod
    def of(cls, embedded: FaceEmbedding, model: str) -> EmbeddedFace:
        return cls(face=DetectedFace.of(embedded.face), model=model, vector=embedded.vector.tolist())


@strawberry.type(description="The answer to a verification or identification request.")
class Verification:
    match: bool = strawberry.field(
        description="True when the best candidate's distance <= threshold (the exact distance, even where it is "
        "shown rounded)."
    )
    threshold: float = strawberry.field(
        description="The distance threshold that was applied: the one given, the one a maxFalseMatchRate "
        "translates to, or the model's default. One the caller chose is rounded to 0.01 without BIOMETRICS."
    )
    best: Candidate | None = strawberry.field(description="The nearest candidate; null when nothing was searched.")
    candidates: list[Candidate] = strawberry.field(
        description="Nearest first, whether or not they pass the threshold: for verifyLinear the best face "
        "of each of the nearest persons; for verifyPerson that person's faces.",
        metadata=declared(Cost(length="candidates")),
    )
    probe: DetectedFace | None = strawberry.field(
        description="The face used from the probe photo: its subject (the largest face, less a penalty for "
        "distance from the centre), or for recognizeFaces the face this entry is about. Null for "
        "searchByEmbedding, which has no photo."
    )
    model: str = strawberry.field(description="Id of the embedding model used; only its faces are compared.")
    searched: int = strawberry.field(description="How many stored faces were compared with the probe.")
    false_positive_identification_rate: float | None = strawberry.field(
        description="For a 1:K answer: how often a stranger searched against this gallery's persons would be "
        "matched to one of them at `threshold` (open-set FPIR, 1 - (1 - FMR)^N from the model's LFW false match "
        "rate and the N persons searched; bench/results/accuracy.md checks it against strangers searched in LFW "
        "galleries). It grows with the gallery: ask with maxFalsePositiveIdentificationRate to keep it bounded. "
        "Null for verifyPerson (1:1) and without a calibration."
    )

    @classmethod
    def of(cls, verdict: Verdict) -> Verification:
        candidates = [Candidate.of(shown) for shown in verdict.candidates]
        return cls(
            match=verdict.match,
            threshold=verdict.threshold,
            best=candidates[0] if candidates else None,
            candidates=candidates,
            probe=None if verdict.probe is None else DetectedFace.of(verdict.probe),
            model=verdict.model,
            searched=verdict.searched,
            false_positive_identification_rate=verdict.false_positive_identification_rate,
        )


@strawberry.type(description="A stored face's embedding vector, for debugging and offline analysis.")
class Embedding:
    face_id: strawberry.ID = strawberry.field(description="The face's id.")
    model: str = strawberry.field(description="Id of the model that made the vector.")
    dimension: int = strawberry.field(description="Length of the vector.")
    vector: list[float] = strawberry.field(description="The unit-length embedding.")

    @classmethod
    def from_row(cls, row: FaceRow) -> Embedding:
        vector = np.frombuffer(row.embedding, dtype="<f4")
        return cls(face_id=strawberry.ID(str(row.id)), model=row.model, dimension=len(vector), vector=vector.tolist())


@strawberry.type(
    description="Where the false match rates (`falseMatchRate`, `maxFalseMatchRate`, `operatingPoints`) come from."
)
class Calibration:
    source: CalibrationSourceEnum = strawberry.field(description="LFW's table alone, or blended with the gallery.")
    description: str = strawberry.field(description="The pairs behind the table, in words.")
    pairs: int = strawberry.field(
        description="Different-person pairs behind the table: the gallery's sampled pairs once it is blended in, "
        "LFW's before."
    )
    genuine_pairs: int = strawberry.field(description="Same-person pairs behind the true match rates, counted alike.")
    gallery_persons: int = strawberry.field(description="Enrolled persons in the gallery's sample; 0 with LFW alone.")
    gallery_weight: float = strawberry.field(
        description=f"The gallery's share of the false match rates (persons / (persons + {PRIOR_PERSONS})); 0 with "
        "LFW alone."
    )
    refreshed_at: datetime | None = strawberry.field(description="When the blend was last fitted; null with LFW alone.")

    @classmethod
    def of(cls, gallery: GalleryCalibration) -> Calibration | None:
        table, fit = gallery.calibration, gallery.fit
        if table is None:
            return None
        return cls(
            source=gallery.source,
            description=table.source,
            pairs=table.impostor_pairs,
            genuine_pairs=table.genuine_pairs,
            gallery_persons=0 if fit is None else fit.persons,
            gallery_weight=0.0 if fit is None else fit.weight,
            refreshed_at=None if fit is None else datetime.fromtimestamp(fit.refreshed_at, UTC),
        )


@strawberry.type(description="A threshold and the error rates it gives, on the model's calibration.")
class OperatingPoint:
    false_match_rate: float = strawberry.field(
        description="Share of different-person pairs accepted at this threshold (at most this much)."
    )
    threshold: float = strawberry.field(description="The distance threshold that gives it.")
    true_match_rate: float = strawberry.field(description="Share of same-person pairs accepted at this threshold.")


@strawberry.type(description="An embedding model this server has loaded, and how its distances are read.")
class ModelInfo:
    name: str = strawberry.field(description="Model id, stored with every embedding.")
    embedder: str = strawberry.field(
        description="Its name in EMBEDDER and EMBEDDERS: " + ", ".join(f"`{key}`" for key in EMBEDDERS) + "."
    )
    is_default: bool = strawberry.field(
        description="Whether it is the server's default (EMBEDDER): a new collection's unless it names another."
    )
    description: str = strawberry.field(description="What the model is, how faces are cut out and prepared.")
    dimension: int = strawberry.field(description="Embedding length.")
    input_size: int = strawberry.field(description="Side in pixels of the square face crop the model takes.")
    metric: str = strawberry.field(description="How two embeddings are compared.")
    default_threshold: float = strawberry.field(
        description="The distance threshold used when a request gives none, chosen on LFW's 6,000 pairs."
    )
    max_threshold: float = strawberry.field(
        description="The loosest threshold this server accepts (MAX_THRESHOLD, by default the threshold at a "
        "false match rate of 1 %); farther candidates are shown only to keys with BIOMETRICS."
    )
    operating_points: list[OperatingPoint] = strawberry.field(
        description="Thresholds at false match rates of 1 %, 0.1 % and 0.01 %, for `threshold` or "
        "`maxFalseMatchRate`; empty if the model has no calibration.",
        metadata=declared(Cost(length=len(OPERATING_FMRS))),
    )
    calibration: Calibration | None = strawberry.field(
        description="Where the false match rates come from; null if the model has no calibration."
    )

    @classmethod
    def of(cls, model: ModelDescription) -> ModelInfo:
        spec, thresholds = model.spec, model.thresholds
        calibration = thresholds.calibration
        points = []
        if calibration is not None:
            for fmr in OPERATING_FMRS:
                cutoff = calibration.threshold_for(fmr)
                points.append(
                    OperatingPoint(
                        false_match_rate=fmr, threshold=cutoff, true_match_rate=calibration.true_match_rate(cutoff)
                    )
                )
        return cls(
            name=model.model_id,
            embedder=spec.key,
            is_default=model.default,
            description=spec.description,
            dimension=spec.dimension,
            input_size=spec.input_size,
            metric=spec.metric,
            default_threshold=thresholds.default,
            max_threshold=thresholds.maximum,
            operating_points=points,
            calibration=Calibration.of(thresholds.gallery),
        )


@strawberry.type(description="A face reembedFaces left as it was, and why.")
class SkippedFace:
    face_id: strawberry.ID = strawberry.field(description="The face's id.")
    reason: str = strawberry.field(description="Why its stored crop gave no embedding.")


@strawberry.type(description="What one reembedFaces batch did, and where the next starts.")
class Reembedded:
    model: str = strawberry.field(description="The model id the re-embedded faces now have: this server's.")
    face_ids: list[strawberry.ID] = strawberry.field(
        description="The faces re-embedded.", metadata=declared(Cost(length=REEMBED_BATCH_MAX))
    )
    skipped: list[SkippedFace] = strawberry.field(
        description="Faces whose crop yielded no face (or that have no stored crop): left under their old model.",
        metadata=declared(Cost(length=REEMBED_BATCH_MAX)),
    )
    last_id: strawberry.ID | None = strawberry.field(
        description="The last face this batch looked at: pass it as `after` for the next; null if none was left."
    )
    remaining: int = strawberry.field(description="Faces of other models after `lastId`: 0 when the walk is done.")

    @classmethod
    def of(cls, batch: Reembedding) -> Reembedded:
        return cls(
            model=batch.model,
            face_ids=[strawberry.ID(face_id) for face_id in batch.reembedded],
            skipped=[SkippedFace(face_id=strawberry.ID(s.face_id), reason=s.reason) for s in batch.skipped],
            last_id=None if batch.last_id is None else strawberry.ID(batch.last_id),
            remaining=batch.remaining,
        )


@strawberry.type(description="What a delete removed.")
class DeleteResult:
    id: strawberry.ID = strawberry.field(description="Id of the deleted person or face.")
    deleted_faces: int = strawberry.field(description="How many faces were deleted with it.")

    @classmethod
    def of(cls, deletion: Deletion) -> DeleteResult:
        return cls(id=strawberry.ID(deletion.id), deleted_faces=deletion.deleted_faces)


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge of the page.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge; pass it as `after`.")


@strawberry.type(description="An item in a page, with its cursor.")
class Edge(Generic[Item]):
    node: Item = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Opaque cursor of this item; pass it as `after` to read on.")


@strawberry.type(description="A page of items, oldest first (a Relay connection).")
class Connection(Generic[Item]):
    edges: list[Edge[Item]] = strawberry.field(
        description="The items of this page.",
        metadata=declared(Cost(length=1)),  # the field that returns the connection multiplies by its page size
    )
    page_info: PageInfo = strawberry.field(description="Where this page stands.")
    total_count: int = strawberry.field(description="How many items there are, over all pages.")

    @classmethod
    def of(cls, page: PageOf[Row], node: Callable[[Row], Item]) -> Connection[Item]:
        edges = [Edge(node=node(row), cursor=cursor) for row, cursor in zip(page.rows, page.cursors, strict=True)]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total,
        )


@strawberry.type(description="An API key, without its secret (which is shown only when it is created).")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The key's id, a UUID (audit entries name it).")
    name: str = strawberry.field(description="What the key is for, e.g. the service that uses it.")
    scopes: list[ApiScopeEnum] = strawberry.field(description="What the key may do.")
    collections: list[strawberry.ID] | None = strawberry.field(
        description="The ids of the collections the key may see; null: every collection."
    )
    created_at: datetime = strawberry.field(description="When the key was created (UTC).")
    last_used_at: datetime | None = strawberry.field(
        description="When the key last authenticated a request (UTC, to the minute); null if never."
    )
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked; null while it works.")
    from_environment: bool = strawberry.field(
        description="True for the server's ADMIN_API_KEY, which is replaced when that setting changes."
    )

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            scopes=[Scope(scope) for scope in row.scopes],
            collections=None if row.collections is None else [strawberry.ID(c) for c in row.collections],
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            from_environment=row.origin == "env",
        )


@strawberry.type(description="The API key a request is made with, as it may see itself: who it is and what it may do.")
class Me:
    key_id: strawberry.ID | None = strawberry.field(
        description="The key's id (audit entries name it); null with AUTH=off, where no key is needed."
    )
    name: str = strawberry.field(description="The key's name.")
    scopes: list[ApiScopeEnum] = strawberry.field(description="The scopes the key was given.")
    allowed: list[ApiScopeEnum] = strawberry.field(
        description="Every scope the key may use: its own, and with ADMIN all the others. A client shows only "
        "what these allow (the console hides the rest)."
    )
    collections: list[strawberry.ID] | None = strawberry.field(
        description="The ids of the collections the key may see; null: every collection."
    )

    @classmethod
    def of(cls, principal: Principal) -> Me:
        collections = None if principal.collections is None else sorted(principal.collections)
        return cls(
            key_id=None if principal.key_id is None else strawberry.ID(principal.key_id),
            name=principal.name,
            scopes=sorted(principal.scopes, key=list(Scope).index),
            allowed=granted_scopes(principal),
            collections=None if collections is None else [strawberry.ID(c) for c in collections],
        )


@strawberry.type(description="A key just created: the secret is shown this once and never stored.")
class NewApiKey:
    secret: str = strawberry.field(
        description="The key to send as `Authorization: Bearer <secret>` or `X-API-Key: <secret>`. Keep it "
        "safe: the server keeps only its hash and cannot show it again."
    )
    api_key: ApiKey = strawberry.field(description="The key's id, name and scopes.")

    @classmethod
    def of(cls, issued: IssuedKey) -> NewApiKey:
        return cls(secret=issued.secret, api_key=ApiKey.from_row(issued.row))


@strawberry.type(description="One audited operation: every write and every verification.")
class AuditEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    at: datetime = strawberry.field(description="When the operation ended (UTC).")
    key_id: strawberry.ID | None = strawberry.field(
        description="The API key that made the call; null with AUTH=off or without a key."
    )
    key_name: str = strawberry.field(description="That key's name when the call was made.")
    operation: str = strawberry.field(description="The GraphQL field, e.g. `createFace` or `verifyLinear`.")
    targets: list[strawberry.ID] = strawberry.field(
        description="Ids the operation named or produced: persons, faces, keys; for a verification the best "
        "candidate's person."
    )
    result: str = strawberry.field(description="`OK`, or the ErrorCode the operation failed with.")
    detail: str | None = strawberry.field(description="For verifications: `match` or `no match`.")

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.created_at,
            key_id=None if row.key_id is None else strawberry.ID(str(row.key_id)),
            key_name=row.key_name,
            operation=row.operation,
            targets=[strawberry.ID(target) for target in row.targets],
            result=row.result,
            detail=row.detail or None,
        )


@strawberry.type(description="One error code and when it happens (the `errorCodes` query).")
class ErrorDescription:
    code: ErrorCodeEnum = strawberry.field(description="The value of `extensions.code`.")
    description: str = strawberry.field(description="When a client meets it, and what to do.")


PersonConnection = Connection[Person]
FaceConnection = Connection[Face]
AuditEntryConnection = Connection[AuditEntry]
