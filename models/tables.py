"""The tables. Portable column types (and our own for embeddings): the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.models import Model

from bounds import API_KEY_NAME_MAX, COLLECTION_DESCRIPTION_MAX, COLLECTION_NAME_MAX, EXTERNAL_ID_MAX, NAME_MAX
from models.fields import EmbeddingField

# The collection every database has, made by the first start (or the migration that brought collections): the
# one existing persons moved into, and the one a field without `collection` means for a key bound to no single one.
DEFAULT_COLLECTION_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
DEFAULT_COLLECTION_NAME = "default"


class Collection(Model):
    """A gallery of its own: persons, their faces and the model they are embedded with (a tenant)."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=COLLECTION_NAME_MAX, unique=True)
    description = fields.CharField(max_length=COLLECTION_DESCRIPTION_MAX, default="")
    model = fields.CharField(max_length=100)  # the embedder id its faces are searched with
    max_persons = fields.IntField(null=True)  # null: no limit of its own
    max_faces = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "collection"
        ordering = ("created_at", "id")


class Person(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    collection: fields.ForeignKeyRelation[Collection] = fields.ForeignKeyField(
        "models.Collection", related_name="persons", on_delete=fields.CASCADE, db_index=True
    )
    name = fields.CharField(max_length=NAME_MAX)
    external_id = fields.CharField(max_length=EXTERNAL_ID_MAX, null=True)  # unique within the collection
    metadata: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    # The face chosen to show for the person. A plain id, not a foreign key (face already references person):
    # a cover deleted or moved away is simply no longer one of theirs, and the oldest face stands in.
    cover_face_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    faces: fields.ReverseRelation[Face]
    collection_id: uuid.UUID

    class Meta:
        table = "person"
        ordering = ("created_at", "id")
        unique_together = (("collection", "external_id"),)


class Face(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="faces", on_delete=fields.CASCADE, db_index=True
    )
    # The person's collection, copied onto the face: a search filters on it inside the index scan (pgvector) and
    # a gallery is loaded per collection without a join. A face moves only between persons of one collection.
    collection: fields.ForeignKeyRelation[Collection] = fields.ForeignKeyField(
        "models.Collection", related_name="faces", on_delete=fields.CASCADE, db_index=False
    )
    embedding = EmbeddingField()  # float32 little-endian, unit length; `vector` on PostgreSQL
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
    crop_jpeg = fields.BinaryField()  # the crop the embedder saw; empty with STORE_FACE_CROPS=false
    image_sha256 = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    # A reembedCollection job's embedding of the same crop by the collection's next model, unsearched until
    # the job switches the whole collection over (then moved into the three above and cleared).
    next_model = fields.CharField(max_length=100, null=True)
    next_embedding = EmbeddingField(null=True)
    next_detector = fields.CharField(max_length=20, null=True)

    person_id: uuid.UUID
    collection_id: uuid.UUID

    class Meta:
        table = "face"
        ordering = ("created_at", "id")
        # The start-up gallery load reads one model's faces in id order, in chunks; counts and deletes go by collection.
        indexes = (("model", "id"), ("collection_id", "model"))


class ApiKey(Model):
    """A caller's credential. Only the secret's SHA-256 is stored; the secret is shown once."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=API_KEY_NAME_MAX)
    secret_sha256 = fields.CharField(max_length=64, unique=True)
    scopes: fields.JSONField[list[str]] = fields.JSONField()
    # The collection ids the key may see; null: every collection (only such a key may create collections).
    collections: fields.JSONField[list[str] | None] = fields.JSONField(null=True)
    # "env": the ADMIN_API_KEY of the environment, replaced when that changes; "stored": all others.
    origin = fields.CharField(max_length=10, default="stored")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
        ordering = ("created_at", "id")


class AuditEntry(Model):
    """One write or verification: who (key), what (operation, targets), and how it ended."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    key_id = fields.UUIDField(null=True)  # null with AUTH=off
    key_name = fields.CharField(max_length=API_KEY_NAME_MAX)
    operation = fields.CharField(max_length=50)
    targets: fields.JSONField[list[str]] = fields.JSONField()
    result = fields.CharField(max_length=30)  # OK, or the ErrorCode it failed with
    detail = fields.CharField(max_length=200, default="")

    class Meta:
        table = "audit_entry"
        ordering = ("created_at", "id")


class LivenessSession(Model):
    """A liveness challenge handed to a key: checked once, by that key, before it expires."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    key_id = fields.UUIDField(null=True)  # the key that started it (null with AUTH=off): only it may check it
    collection_id = fields.UUIDField()  # where the person is (or the key's default collection)
    person_id = fields.UUIDField(null=True)  # who is to be verified with it; null: liveness alone
    challenges: fields.JSONField[list[str]] = fields.JSONField()  # ml.liveness.Challenge values, in order
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    checked_at = fields.DatetimeField(null=True)  # set once, by the check that uses it up

    class Meta:
        table = "liveness_session"
        ordering = ("created_at", "id")


class Job(Model):
    """A background job (reembedCollection): its progress, outcome, and which replica runs it."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = fields.CharField(max_length=30)  # "reembedCollection"
    collection: fields.ForeignKeyRelation[Collection] = fields.ForeignKeyField(
        "models.Collection", related_name="jobs", on_delete=fields.CASCADE
    )
    from_model = fields.CharField(max_length=100)
    to_model = fields.CharField(max_length=100)
    state = fields.CharField(max_length=12, db_index=True)  # RUNNING, SUCCEEDED, FAILED
    total = fields.IntField(default=0)  # faces in the collection when last counted
    done = fields.IntField(default=0)  # faces embedded by to_model so far
    # Faces that could not be re-embedded: [{"face": id, "reason": ...}], the first JOB_SKIPPED_KEPT.
    skipped: fields.JSONField[list[dict[str, str]]] = fields.JSONField(default=list)
    skipped_count = fields.IntField(default=0)
    error = fields.CharField(max_length=500, null=True)
    owner = fields.CharField(max_length=64, null=True)  # the replica running it, while it runs
    heartbeat_at = fields.DatetimeField(null=True)  # its owner's last sign of life: a stale one is taken over
    started_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    finished_at = fields.DatetimeField(null=True)

    collection_id: uuid.UUID

    class Meta:
        table = "job"
        ordering = ("started_at", "id")
