"""Persistence: the Tortoise ORM models and the database configuration."""

from models.db import database_config, scrub_deleted, unreachable
from models.tables import (
    DEFAULT_COLLECTION_ID,
    DEFAULT_COLLECTION_NAME,
    ApiKey,
    AuditEntry,
    Collection,
    Face,
    Job,
    LivenessSession,
    Person,
)
from models.upgrade import adopt_models, upgrade_sqlite

__all__ = [
    "DEFAULT_COLLECTION_ID",
    "DEFAULT_COLLECTION_NAME",
    "ApiKey",
    "AuditEntry",
    "Collection",
    "Face",
    "Job",
    "LivenessSession",
    "Person",
    "adopt_models",
    "database_config",
    "scrub_deleted",
    "unreachable",
    "upgrade_sqlite",
]
