"""Persistence: the Tortoise ORM models and the database configuration."""

from models.db import database_config, scrub_deleted
from models.tables import ApiKey, AuditEntry, Face, Person
from models.upgrade import add_missing_columns

__all__ = ["ApiKey", "AuditEntry", "Face", "Person", "add_missing_columns", "database_config", "scrub_deleted"]
