"""Keyset pagination over (created_at, id), with opaque cursors."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from tortoise.expressions import Q

from resolvers.errors import invalid


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode("ascii")


def after_filter(cursor: str | None) -> Q | None:
    """The rows strictly after the cursor, in (created_at, id) order."""
    if cursor is None:
        return None
    try:
        created_text, id_text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().split("|")
        created_at, row_id = datetime.fromisoformat(created_text), uuid.UUID(id_text)
    except (ValueError, UnicodeError):
        raise invalid("`after` is not a cursor this API gave") from None
    return Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=row_id)


def check_page_size(first: int, maximum: int) -> None:
    if not 1 <= first <= maximum:
        raise invalid(f"`first` must be between 1 and {maximum}")
