"""Input types."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from settings import EXTERNAL_ID_MAX, METADATA_MAX_BYTES, NAME_MAX


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
