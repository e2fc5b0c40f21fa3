"""Database rows to schema types."""

from __future__ import annotations

import base64

import strawberry

from models import Face as FaceRow
from models import Person as PersonRow
from schema.types import Box, Face, Person


def person_type(row: PersonRow) -> Person:
    return Person(
        id=strawberry.ID(str(row.id)),
        name=row.name,
        external_id=row.external_id,
        metadata=row.metadata,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def face_type(row: FaceRow) -> Face:
    return Face(
        id=strawberry.ID(str(row.id)),
        box=Box(x=row.box_x, y=row.box_y, width=row.box_width, height=row.box_height),
        detection_score=row.detection_score,
        detector=row.detector,
        model=row.model,
        created_at=row.created_at,
        crop_jpeg_base64=base64.b64encode(row.crop_jpeg).decode("ascii"),
        person_id=str(row.person_id),
    )
