"""Database configuration for Tortoise ORM."""

from __future__ import annotations

from typing import Any


def database_config(url: str) -> dict[str, Any]:
    return {
        "connections": {"default": url},
        "apps": {"models": {"models": ["models.tables"], "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }
