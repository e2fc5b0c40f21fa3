"""What a new face may be getting wrong: the same photo enrolled before, or a face that is someone else's."""

from __future__ import annotations

import numpy as np
import strawberry

from auth.access import shown_distance
from errors import ApiError, ErrorCode
from models import Face as FaceRow
from resolvers.context import Context
from schema.types import EnrolmentWarning, EnrolmentWarningCode


async def same_image(image_sha256: str) -> EnrolmentWarning | None:
    """SAME_IMAGE_ENROLLED when these exact bytes are already a face (of anyone)."""
    earlier = await FaceRow.filter(image_sha256=image_sha256).order_by("created_at").first()
    if earlier is None:
        return None
    return EnrolmentWarning(
        code=EnrolmentWarningCode.SAME_IMAGE_ENROLLED,
        message=f"the same image is already enrolled as face {earlier.id}",
        face_id=strawberry.ID(str(earlier.id)),
        person_id=strawberry.ID(str(earlier.person_id)),
        distance=None,
    )


async def other_person_matched(
    ctx: Context, person_id: str, vector: np.ndarray, reject: bool
) -> EnrolmentWarning | None:
    """MATCHES_OTHER_PERSON when another person's face is within the shipped threshold; an error if `reject`."""
    threshold = ctx.services.default_threshold
    matches = await ctx.services.search.search(vector, 2)
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
    return EnrolmentWarning(
        code=EnrolmentWarningCode.MATCHES_OTHER_PERSON,
        message=message,
        face_id=strawberry.ID(nearest.face_id),
        person_id=strawberry.ID(nearest.person_id),
        distance=distance,
    )
