"""Keyset pagination over (created_at, id), with opaque cursors, as Relay connections."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import AuditEntry as AuditRow
from models import Face as FaceRow
from models import Person as PersonRow
from resolvers.errors import invalid
from schema.types import Connection, Edge, PageInfo
from settings import PAGE_SIZE_DEFAULT

Row = TypeVar("Row", PersonRow, FaceRow, AuditRow)  # the tables that pages are made of
Node = TypeVar("Node")


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


def _check_page_size(first: int, maximum: int) -> None:
    if not 1 <= first <= maximum:
        raise invalid(f"`first` must be between 1 and {maximum}")


async def paginate(
    query: QuerySet[Row], first: int | None, after: str | None, maximum: int, to_node: Callable[[Row], Node]
) -> Connection[Node]:
    """One page of `query`, oldest first, as a Relay connection (`first` None: the default size)."""
    first = PAGE_SIZE_DEFAULT if first is None else first
    _check_page_size(first, maximum)
    total = await query.count()
    cursor_filter = after_filter(after)
    if cursor_filter is not None:
        query = query.filter(cursor_filter)
    rows = await query.order_by("created_at", "id").limit(first + 1)
    edges = [Edge(node=to_node(row), cursor=encode_cursor(row.created_at, row.id)) for row in rows[:first]]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )
