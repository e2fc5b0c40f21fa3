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


async def _cover_faces(persons: Sequence[tuple[str, str | None]]) -> list[FaceRow | None]:
    """Each (person id, chosen cover face id or None)'s cover: the chosen face while it is still theirs, else
    their oldest. Three queries for a page of persons, and only the covers' rows (with their crops) are read."""
    person_ids = [person for person, _ in persons]
    wanted = {(person, cover) for person, cover in persons if cover}
    still_theirs = FaceRow.filter(id__in=[cover for _, cover in wanted]).values_list("id", "person_id")
    cover = {str(person): str(face) for face, person in await still_theirs if (str(person), str(face)) in wanted}
    if missing := [person for person in person_ids if person not in cover]:
        # Their faces' ids oldest first, without the crops: the first of each person is the cover.
        ids = FaceRow.filter(person_id__in=missing).order_by("created_at", "id").values_list("id", "person_id")
        for face, person in await ids:
            cover.setdefault(str(person), str(face))
    rows = {str(row.id): row for row in await FaceRow.filter(id__in=list(cover.values()))}
    return [rows.get(cover.get(person, "")) for person in person_ids]


@dataclass
class Loaders:
    person: DataLoader[str, PersonRow | None] = field(default_factory=lambda: DataLoader(_persons))
    face: DataLoader[str, FaceRow | None] = field(default_factory=lambda: DataLoader(_faces))
    faces_by_person: DataLoader[str, list[FaceRow]] = field(default_factory=lambda: DataLoader(_faces_by_person))
    cover_face: DataLoader[tuple[str, str | None], FaceRow | None] = field(
        default_factory=lambda: DataLoader(_cover_faces)
    )
    face_count: DataLoader[str, int] = field(default_factory=lambda: DataLoader(_face_counts))
    collection_persons: DataLoader[str, int] = field(default_factory=lambda: DataLoader(_collection_persons))
    collection_faces: DataLoader[str, int] = field(default_factory=lambda: DataLoader(_collection_faces))
