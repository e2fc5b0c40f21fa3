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


async def counts_by(table: type[PersonRow] | type[FaceRow], column: str, keys: Sequence[str]) -> list[int]:
    """How many rows of `table` have each of `keys` in `column` (a person's faces, a collection's persons...)."""
    rows = (
        await table.filter(**{f"{column}__in": list(keys)})
        .annotate(n=Count("id"))
        .group_by(column)
        .values_list(column, "n")
    )
    counts = {str(key): n for key, n in rows}
    return [counts.get(key, 0) for key in keys]


async def _face_counts(person_ids: Sequence[str]) -> list[int]:
    return await counts_by(FaceRow, "person_id", person_ids)


async def _collection_persons(ids: Sequence[str]) -> list[int]:
    return await counts_by(PersonRow, "collection_id", ids)


async def _collection_faces(ids: Sequence[str]) -> list[int]:
    return await counts_by(FaceRow, "collection_id", ids)


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
