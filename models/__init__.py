"""Persistence: the Tortoise ORM models and the database configuration."""

from models.db import database_config
from models.tables import Face, Person
from models.upgrade import add_missing_columns

__all__ = ["Face", "Person", "add_missing_columns", "database_config"]
