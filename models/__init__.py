"""Persistence: the Tortoise ORM models and the database configuration."""

from models.db import database_config
from models.tables import Face, Person

__all__ = ["Face", "Person", "database_config"]
