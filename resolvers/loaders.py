"""Per-request DataLoaders of rows, so that a page of N items costs a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader
from tortoise.functions import Count

from models import Face as FaceRow
from models import Person as PersonRow


async def _persons(ids: Sequence[str]) -> list[PersonRow | None]:
    rows = {str(row.id): row for row in await PersonRow.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _faces_by_person(person_ids: Sequence[str]) -> list[list[FaceRow]]:
    grouped: dict[str, list[FaceRow]] = defaultdict(list)
    for row in await FaceRow.filter(person_id__in=list(person_ids)).order_by("created_at", "id"):
        grouped[str(row.person_id)].append(row)
    return [grouped.get(i, []) for i in person_ids]


async def _face_counts(person_ids: Sequence[str]) -> list[int]:
    rows = (
        await FaceRow.filter(person_id__in=list(person_ids))
        .annotate(n=Count("id"))
        .group_by("person_id")
        .values_list("person_id", "n")
    )
    counts = {str(person_id): n for person_id, n in rows}
    return [counts.get(i, 0) for i in person_ids]


async def _counts_per_collection(table: type[PersonRow] | type[FaceRow], ids: Sequence[str]) -> list[int]:
    rows = (
        await table.filter(collection_id__in=list(ids))
        .annotate(n=Count("id"))
        .group_by("collection_id")
        .values_list("collection_id", "n")
    )
    counts = {str(collection_id): n for collection_id, n in rows}
    return [counts.get(i, 0) for i in ids]


async def _collection_persons(ids: Sequence[str]) -> list[int]:
    return await _counts_per_collection(PersonRow, ids)


async def _collection_faces(ids: Sequence[str]) -> list[int]:
    return await _counts_per_collection(FaceRow, ids)


async def _faces(ids: Sequence[str]) -> list[FaceRow | None]:
    rows = {str(row.id): row for row in await FaceRow.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


@dataclass
class Loaders:
    person: DataLoader[str, PersonRow | None] = field(default_factory=lambda: DataLoader(_persons))
    face: DataLoader[str, FaceRow | None] = field(default_factory=lambda: DataLoader(_faces))
    faces_by_person: DataLoader[str, list[FaceRow]] = field(default_factory=lambda: DataLoader(_faces_by_person))
    face_count: DataLoader[str, int] = field(default_factory=lambda: DataLoader(_face_counts))
    collection_persons: DataLoader[str, int] = field(default_factory=lambda: DataLoader(_collection_persons))
    collection_faces: DataLoader[str, int] = field(default_factory=lambda: DataLoader(_collection_faces))
