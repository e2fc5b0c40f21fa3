"""Input types, each turning itself into the plain value its resolver takes."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from bounds import EXTERNAL_ID_MAX, METADATA_MAX_BYTES, NAME_MAX
from ml.detection import Box
from ml.quality import FaceQuality
from resolvers.images import Photo
from resolvers.persons import PersonChanges
from resolvers.restore import ExportedFace, ExportedPerson


@strawberry.input(
    one_of=True,
    description="A photo, given exactly one way (a @oneOf input): `upload` (a multipart request) or `base64`. "
    "JPEG, PNG (8 or 16 bit), WEBP, BMP, GIF or TIFF; EXIF orientation is honoured.",
)
class ImageInput:
    upload: Upload | None = strawberry.field(
        default=strawberry.UNSET, description="The file, sent by the GraphQL multipart request spec."
    )
    base64: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The file's bytes in base64, bare or as a `data:image/...;base64,` URL.",
    )

    def to_photo(self) -> Photo:
        return Photo(
            upload=None if self.upload is strawberry.UNSET else self.upload,
            base64=None if self.base64 is strawberry.UNSET else self.base64,
        )


@strawberry.input(description="A new person.")
class PersonInput:
    name: str = strawberry.field(description=f"Display name, 1 to {NAME_MAX} characters.")
    external_id: str | None = strawberry.field(
        default=None, description=f"Your own id for this person, unique, 1 to {EXTERNAL_ID_MAX} characters."
    )
    metadata: JSON | None = strawberry.field(
        default=None, description=f"A JSON object to store with the person, at most {METADATA_MAX_BYTES} bytes."
    )


@strawberry.input(description="Changes to a person; fields left out stay as they are, null clears.")
class PersonPatch:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New display name.")
    external_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="New external id; null removes it."
    )
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="New metadata object, replacing the old; null removes it."
    )
    cover_face_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The face to show for the person (`coverFace`), one of their own; null: their oldest face.",
    )

    def changes(self) -> PersonChanges:
        """The fields given (null included), without those left out."""
        changes = PersonChanges()
        if self.name is not strawberry.UNSET:
            changes["name"] = self.name
        if self.external_id is not strawberry.UNSET:
            changes["external_id"] = self.external_id
        if self.metadata is not strawberry.UNSET:
            changes["metadata"] = self.metadata
        if self.cover_face_id is not strawberry.UNSET:
            changes["cover_face_id"] = self.cover_face_id
        return changes


@strawberry.input(description="A person as `faceid export` wrote it, for restoreFace's companion restorePerson.")
class RestoredPerson:
    id: strawberry.ID = strawberry.field(description="The person's id, kept.")
    name: str = strawberry.field(description="Display name.")
    external_id: str | None = strawberry.field(default=None, description="The client's own id, if any.")
    metadata: JSON | None = strawberry.field(default=None, description="The stored JSON object, if any.")
    created_at: datetime = strawberry.field(description="When the person was created, kept.")
    updated_at: datetime = strawberry.field(description="When the person was last changed, kept.")

    def exported(self) -> ExportedPerson:
        return ExportedPerson(self.id, self.name, self.external_id, self.metadata, self.created_at, self.updated_at)


@strawberry.input(description="A face's box in its photo, in pixels.")
class BoxInput:
    x: int = strawberry.field(description="Left edge.")
    y: int = strawberry.field(description="Top edge.")
    width: int = strawberry.field(description="Width.")
    height: int = strawberry.field(description="Height.")

    def to_box(self) -> Box:
        return Box(self.x, self.y, self.width, self.height)


@strawberry.input(description="A face's quality as measured at enrolment.")
class QualityInput:
    inter_eye_px: float = strawberry.field(description="Pixels between the eyes.")
    sharpness: float = strawberry.field(description="Laplacian variance of the crop.")
    yaw_deg: float | None = strawberry.field(default=None, description="Left/right turn, degrees.")
    roll_deg: float | None = strawberry.field(default=None, description="In-plane tilt, degrees.")
    detection_score: float | None = strawberry.field(default=None, description="The detector's confidence.")


@strawberry.input(description="A face as `faceid export` wrote it: embedding and crop included, nothing recomputed.")
class RestoredFace:
    id: strawberry.ID = strawberry.field(description="The face's id, kept.")
    person_id: strawberry.ID = strawberry.field(description="Its person (restored first).")
    model: str = strawberry.field(description="The id of the model that made the embedding.")
    embedding: list[float] = strawberry.field(description="The embedding, as exported.")
    box: BoxInput = strawberry.field(description="Where the face was in its photo.")
    detector: str = strawberry.field(
        description="The detector that found it (FACE_DETECTOR): `yunet-onet`, `mtcnn`, `yunet`, `yunet-int8` or "
        "`haar`."
    )
    detection_score: float | None = strawberry.field(default=None, description="The detector's confidence.")
    quality: QualityInput | None = strawberry.field(default=None, description="Quality at enrolment, if measured.")
    crop_jpeg_base64: str | None = strawberry.field(default=None, description="The crop, if one was kept.")
    image_sha256: str = strawberry.field(description="SHA-256 of the original photo.")
    created_at: datetime = strawberry.field(description="When the face was enrolled, kept.")

    def exported(self) -> ExportedFace:
        box, measured = self.box, self.quality
        return ExportedFace(
            id=self.id,
            person_id=self.person_id,
            model=self.model,
            embedding=self.embedding,
            box=Box(box.x, box.y, box.width, box.height),
            detector=self.detector,
            detection_score=self.detection_score,
            quality=None
            if measured is None
            else FaceQuality(
                measured.inter_eye_px,
                measured.sharpness,
                measured.yaw_deg,
                measured.roll_deg,
                measured.detection_score,
            ),
            crop_jpeg_base64=self.crop_jpeg_base64,
            image_sha256=self.image_sha256,
            created_at=self.created_at,
        )
