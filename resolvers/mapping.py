"""Database rows to schema types."""

from __future__ import annotations

import base64
from typing import cast

import strawberry
from strawberry.scalars import JSON

from ml import quality as ml_quality
from models import Face as FaceRow
from models import Person as PersonRow
from schema.types import Box, Face, FaceQuality, Person


def person_type(row: PersonRow) -> Person:
    return Person(
        id=strawberry.ID(str(row.id)),
        name=row.name,
        external_id=row.external_id,
        metadata=cast(JSON, row.metadata),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def quality_type(quality: ml_quality.FaceQuality) -> FaceQuality:
    return FaceQuality(
        inter_eye_px=quality.inter_eye_px,
        sharpness=quality.sharpness,
        yaw_deg=quality.yaw_deg,
        roll_deg=quality.roll_deg,
        detection_score=quality.detection_score,
    )


def face_type(row: FaceRow) -> Face:
    return Face(
        id=strawberry.ID(str(row.id)),
        box=Box(x=row.box_x, y=row.box_y, width=row.box_width, height=row.box_height),
        detection_score=row.detection_score,
        detector=row.detector,
        quality=None
        if row.sharpness is None or row.inter_eye_px is None
        else quality_type(
            ml_quality.FaceQuality(row.inter_eye_px, row.sharpness, row.yaw_deg, row.roll_deg, row.detection_score)
        ),
        model=row.model,
        created_at=row.created_at,
        crop_jpeg_base64=base64.b64encode(row.crop_jpeg).decode("ascii"),
        person_id=str(row.person_id),
    )
