"""Database rows to schema types."""

from __future__ import annotations

import base64
from typing import cast

import strawberry
from strawberry.scalars import JSON

from auth.scopes import ApiScope
from ml import quality as ml_quality
from ml.pipeline import LocatedFace
from models import ApiKey as ApiKeyRow
from models import AuditEntry as AuditRow
from models import Face as FaceRow
from models import Person as PersonRow
from schema.types import ApiKey, AuditEntry, Box, DetectedFace, Face, FaceQuality, Person, Point


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
        crop_jpeg_base64=base64.b64encode(row.crop_jpeg).decode("ascii") if row.crop_jpeg else None,
        person_id=strawberry.ID(str(row.person_id)),
        image_sha256=row.image_sha256,
        stored_embedding=row.embedding,
    )


def api_key_type(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=strawberry.ID(str(row.id)),
        name=row.name,
        scopes=[ApiScope(scope) for scope in row.scopes],
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        from_environment=row.origin == "env",
    )


def audit_entry_type(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=strawberry.ID(str(row.id)),
        at=row.created_at,
        key_id=None if row.key_id is None else strawberry.ID(str(row.key_id)),
        key_name=row.key_name,
        operation=row.operation,
        targets=[strawberry.ID(target) for target in row.targets],
        result=row.result,
        detail=row.detail or None,
    )


def detected_face_type(face: LocatedFace) -> DetectedFace:
    detection = face.detection
    box = detection.box
    landmarks = detection.landmarks
    return DetectedFace(
        box=Box(x=box.x, y=box.y, width=box.width, height=box.height),
        score=detection.score,
        landmarks=None if landmarks is None else [Point(x=float(x), y=float(y)) for x, y in landmarks],
        quality=quality_type(face.quality),
    )
