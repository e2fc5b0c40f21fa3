"""What a new face may be getting wrong: the same photo enrolled before, or a face that is someone else's."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from auth.access import shown_distance
from errors import ApiError, ErrorCode
from models import Face as FaceRow
from resolvers.context import Context


class WarningKind(StrEnum):
    SAME_IMAGE_ENROLLED = "SAME_IMAGE_ENROLLED"
    MATCHES_OTHER_PERSON = "MATCHES_OTHER_PERSON"


@dataclass(frozen=True)
class FaceWarning:
    """Why a face just enrolled may be wrong, naming the earlier or matching face; it was enrolled all the same."""

    kind: WarningKind
    message: str
    face_id: str
    person_id: str
    distance: float | None = None  # to the matching face, as this caller may see it


async def same_image(image_sha256: str, collection_id: str, reject: bool = False) -> FaceWarning | None:
    """SAME_IMAGE_ENROLLED when these exact bytes are already a face (of anyone) in the collection; an error if
    `reject`."""
    earlier = (
        await FaceRow.filter(image_sha256=image_sha256, collection_id=collection_id).order_by("created_at").first()
    )
    if earlier is None:
        return None
    message = f"the same image is already enrolled as face {earlier.id}"
    if reject:
        raise ApiError(
            ErrorCode.SAME_IMAGE_ENROLLED,
            message + "; nothing was enrolled",
            {"personId": str(earlier.person_id), "faceId": str(earlier.id)},
        )
    return FaceWarning(
        WarningKind.SAME_IMAGE_ENROLLED,
        message,
        str(earlier.id),
        str(earlier.person_id),
    )


async def other_person_matched(
    ctx: Context, person_id: str, collection_id: str, model: str, vector: np.ndarray, reject: bool
) -> FaceWarning | None:
    """MATCHES_OTHER_PERSON when another person's face in the collection is within the model's shipped threshold;
    an error if `reject`."""
    loaded = ctx.services.model(model)
    threshold = loaded.thresholds.default
    matches = await loaded.search.search(vector, 2, collection_id)
    nearest = next((m for m in matches if m.person_id != person_id), None)
    if nearest is None or nearest.distance > threshold:
        return None
    distance = shown_distance(ctx.principal, nearest.distance)
    message = f"the face matches another person ({nearest.person_id}) at distance {distance:.3f}"
    if reject:
        raise ApiError(
            ErrorCode.MATCHES_OTHER_PERSON,
            message + "; nothing was enrolled",
            {"personId": nearest.person_id, "faceId": nearest.face_id, "distance": distance},
        )
    return FaceWarning(WarningKind.MATCHES_OTHER_PERSON, message, nearest.face_id, nearest.person_id, distance)
