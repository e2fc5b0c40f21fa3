"""The two tables. Portable column types only: the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.models import Model

from settings import EXTERNAL_ID_MAX, NAME_MAX


class Person(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=NAME_MAX)
    external_id = fields.CharField(max_length=EXTERNAL_ID_MAX, null=True, unique=True)
    metadata: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    faces: fields.ReverseRelation[Face]

    class Meta:
        table = "person"
        ordering = ("created_at", "id")


class Face(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="faces", on_delete=fields.CASCADE, db_index=True
    )
    embedding = fields.BinaryField()  # float32 little-endian, unit length
    model = fields.CharField(max_length=100)  # the embedder's id
    box_x = fields.IntField()
    box_y = fields.IntField()
    box_width = fields.IntField()
    box_height = fields.IntField()
    detection_score = fields.FloatField(null=True)
    detector = fields.CharField(max_length=20)
    # Quality at enrolment (ml.quality); null for faces enrolled before it was measured.
    inter_eye_px = fields.FloatField(null=True)
    sharpness = fields.FloatField(null=True)
    yaw_deg = fields.FloatField(null=True)
    roll_deg = fields.FloatField(null=True)
    crop_jpeg = fields.BinaryField()  # the crop the embedder saw
    image_sha256 = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    person_id: uuid.UUID

    class Meta:
        table = "face"
        ordering = ("created_at", "id")
        # The start-up gallery load reads one model's faces in id order, in chunks.
        indexes = (("model", "id"),)
