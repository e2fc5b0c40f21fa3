"""Database writes with their search updates, carried to the end as one step."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from bounds import FACES_PER_PERSON_MAX
from errors import invalid
from models import Face as FaceRow

T = TypeVar("T")


@dataclass(frozen=True)
class Deletion:
    """What a delete removed: the person's or face's id, and how many faces went with it."""

    id: str
    deleted_faces: int


async def uninterrupted(write: Coroutine[Any, Any, T]) -> T:
    """Run `write` to its end even if the request is cancelled (REQUEST_TIMEOUT_S, a disconnect).

    A write is a commit followed by the search update that mirrors it; stopping
    between the two would leave the database and this replica's search disagreeing.
    """
    return await asyncio.shield(write)


async def check_room_for_face(person_id: uuid.UUID) -> None:
    """INVALID_INPUT when the person already has FACES_PER_PERSON_MAX faces (inside the write's transaction)."""
    if await FaceRow.filter(person_id=person_id).count() >= FACES_PER_PERSON_MAX:
        raise invalid(f"a person has at most {FACES_PER_PERSON_MAX} faces; delete one first")
