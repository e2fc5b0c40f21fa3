"""Keyset pagination over (created_at, id), with opaque cursors: pages of rows (schema/ makes Relay connections)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from bounds import PAGE_SIZE_DEFAULT
from errors import invalid
from models import AuditEntry as AuditRow
from models import Face as FaceRow
from models import Person as PersonRow

Row = TypeVar("Row", PersonRow, FaceRow, AuditRow)  # the tables that pages are made of


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode("ascii")


@dataclass(frozen=True)
class Page:
    """Relay paging arguments: `first` after a cursor, or `last` before one."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True)
class PageOf(Generic[Row]):
    """One page of rows, each with its cursor, and where the page stands among all of them."""

    rows: list[Row]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int


def _decode_cursor(cursor: str, name: str) -> tuple[datetime, uuid.UUID]:
    try:
        created_text, id_text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().split("|")
        return datetime.fromisoformat(created_text), uuid.UUID(id_text)
    except (ValueError, UnicodeError):
        raise invalid(f"`{name}` is not a cursor this API gave") from None


def after_filter(cursor: str | None) -> Q | None:
    """The rows strictly after the cursor, in (created_at, id) order."""
    if cursor is None:
        return None
    created_at, row_id = _decode_cursor(cursor, "after")
    return Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=row_id)


def before_filter(cursor: str | None) -> Q | None:
    """The rows strictly before the cursor, in (created_at, id) order."""
    if cursor is None:
        return None
    created_at, row_id = _decode_cursor(cursor, "before")
    return Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=row_id)


def _page_size(page: Page, maximum: int) -> int:
    if page.first is not None and page.last is not None:
        raise invalid("give `first` or `last`, not both")
    name, size = ("last", page.last) if page.last is not None else ("first", page.first or PAGE_SIZE_DEFAULT)
    if page.first == 0 or not 1 <= size <= maximum:
        raise invalid(f"`{name}` must be between 1 and {maximum}")
    return size


async def paginate(query: QuerySet[Row], page: Page, maximum: int) -> PageOf[Row]:
    """One page of `query` in (created_at, id) order (default: the first 50)."""
    size = _page_size(page, maximum)
    total = await query.count()
    for cursor_filter in (after_filter(page.after), before_filter(page.before)):
        if cursor_filter is not None:
            query = query.filter(cursor_filter)
    backward = page.last is not None
    ordered = query.order_by("-created_at", "-id") if backward else query.order_by("created_at", "id")
    rows = await ordered.limit(size + 1)
    more = len(rows) > size
    rows = list(reversed(rows[:size])) if backward else rows[:size]
    return PageOf(
        rows=rows,
        cursors=[encode_cursor(row.created_at, row.id) for row in rows],
        has_next=page.before is not None if backward else more,
        has_previous=more if backward else page.after is not None,
        total=total,
    )
