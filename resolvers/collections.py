"""Collections: which one a call acts in, what the caller may see of them, their limits, and their lifecycle.

Every read of a person or face goes through `visible` (a filter on collection_id) or
`check_visible` (one row), and every search names the collection it runs in, so a
key bound to collections meets nothing of another: its ids are NOT_FOUND there, never
FORBIDDEN (which would tell that they exist). The decision itself is auth.access's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypedDict, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from auth.access import sees_collection, sees_every_collection, visible_collections
from auth.scopes import Principal
from bounds import COLLECTION_DESCRIPTION_MAX, COLLECTION_NAME_MAX, COLLECTIONS_MAX
from errors import ApiError, ErrorCode, busy, invalid, limit_reached, not_found
from models import DEFAULT_COLLECTION_ID, scrub_deleted
from models import Collection as CollectionRow
from models import Face as FaceRow
from models import Person as PersonRow
from resolvers.context import Context
from resolvers.ids import parse_id
from resolvers.loaders import counts_by
from resolvers.writes import uninterrupted
from services import LoadedModel, ModelNotLoaded

RowT = TypeVar("RowT", PersonRow, FaceRow)  # the rows that belong to a collection


class CollectionChanges(TypedDict, total=False):
    """updateCollection's changes: a key left out stays as it is; None clears a limit."""

    name: str
    description: str
    max_persons: int | None
    max_faces: int | None


@dataclass(frozen=True)
class CollectionDeletion:
    """What deleteCollection removed."""

    id: str
    deleted_persons: int
    deleted_faces: int


def visible(ctx: Context, rows: QuerySet[RowT]) -> QuerySet[RowT]:
    """The rows (persons or faces) in collections the caller may see."""
    allowed = visible_collections(ctx.principal)
    return rows if allowed is None else rows.filter(collection_id__in=sorted(allowed))


def check_visible(ctx: Context, row: RowT | None) -> RowT | None:
    """The row (a person or face) if the caller may see its collection, else None."""
    if row is None or not sees_collection(ctx.principal, str(row.collection_id)):
        return None
    return row


async def collection(ctx: Context, collection_id: str) -> CollectionRow | None:
    """The collection, or None if there is none the caller may see."""
    row_id = parse_id(collection_id, "collection")
    return await CollectionRow.get_or_none(id=row_id) if sees_collection(ctx.principal, str(row_id)) else None


async def get_collection_row(ctx: Context, collection_id: str) -> CollectionRow:
    """The collection, if it exists and the caller may see it; NOT_FOUND otherwise (the same either way)."""
    row = await collection(ctx, collection_id)
    if row is None:
        raise not_found("collection", collection_id)
    return row


async def chosen(ctx: Context, asked: str | None) -> CollectionRow:
    """The collection a field acts in: `collection` if given, else the key's only one, else `default`."""
    if asked is None:
        allowed = visible_collections(ctx.principal)
        if allowed is not None and len(allowed) == 1:
            asked = next(iter(allowed))
        elif sees_collection(ctx.principal, str(DEFAULT_COLLECTION_ID)):
            asked = str(DEFAULT_COLLECTION_ID)
        else:
            raise invalid("this API key sees several collections, none of them `default`: give `collection`")
    return await get_collection_row(ctx, asked)


def model_of(ctx: Context, row: CollectionRow) -> LoadedModel:
    """The model the collection is pinned to: its photos are embedded, searched and thresholded by it."""
    try:
        return ctx.services.model(row.model)
    except ModelNotLoaded:  # pinned by a replica that loads more (EMBEDDERS differ between replicas)
        raise invalid(
            f"collection {row.name!r} is pinned to model {row.model}, which this server does not load (EMBEDDERS)"
        ) from None


def loaded_model(ctx: Context, name: str | None) -> LoadedModel:
    """A model this server has loaded, by its id or its EMBEDDERS name (None: the default); INVALID_INPUT else."""
    if name is None:
        return ctx.services.model()
    for model in ctx.services.models.values():
        if name in (model.id, model.spec.key):
            return model
    loaded = ", ".join(f"{model.id} ({model.spec.key})" for model in ctx.services.models.values())
    raise invalid(f"`model` must be one this server has loaded: {loaded}")


def _seen_by(principal: Principal | None) -> QuerySet[CollectionRow]:
    allowed = visible_collections(principal)
    return CollectionRow.all() if allowed is None else CollectionRow.filter(id__in=sorted(allowed))


async def collections(ctx: Context) -> list[CollectionRow]:
    return await _seen_by(ctx.principal).order_by("created_at", "id")


async def check_collection_ids(ctx: Context, ids: list[str]) -> list[str]:
    """The ids (for a new key), each an existing collection the caller may see; NOT_FOUND for one that is not."""
    found = [str((await get_collection_row(ctx, collection_id)).id) for collection_id in ids]
    if not found:
        raise invalid("`collections` must name at least one collection (leave it out for every collection)")
    return found


def _clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= COLLECTION_NAME_MAX:
        raise invalid(f"`name` must be 1 to {COLLECTION_NAME_MAX} characters")
    return name


def _clean_description(description: str) -> str:
    if len(description) > COLLECTION_DESCRIPTION_MAX:
        raise invalid(f"`description` must be at most {COLLECTION_DESCRIPTION_MAX} characters")
    return description


def _clean_limit(value: int | None, name: str) -> int | None:
    if value is not None and value < 1:
        raise invalid(f"`{name}` must be at least 1 (or null for no limit)")
    return value


def _name_taken(name: str) -> Exception:
    return invalid(f"a collection named {name!r} already exists")


async def create_collection(
    ctx: Context, name: str, description: str, model: str | None, max_persons: int | None, max_faces: int | None
) -> CollectionRow:
    if not sees_every_collection(ctx.principal):
        raise ApiError(
            ErrorCode.FORBIDDEN, "this API key is bound to collections: only a key bound to none creates collections"
        )
    name, description = _clean_name(name), _clean_description(description)
    model = loaded_model(ctx, model).id
    max_persons, max_faces = _clean_limit(max_persons, "maxPersons"), _clean_limit(max_faces, "maxFaces")
    if await CollectionRow.filter(name=name).exists():
        raise _name_taken(name)
    try:
        async with in_transaction():
            if await CollectionRow.all().count() >= COLLECTIONS_MAX:
                raise limit_reached(
                    f"the server holds at most {COLLECTIONS_MAX} collections", "collections", COLLECTIONS_MAX
                )
            return await CollectionRow.create(
                name=name, description=description, model=model, max_persons=max_persons, max_faces=max_faces
            )
    except IntegrityError:  # lost a race for the name
        raise _name_taken(name) from None


async def update_collection(ctx: Context, collection_id: str, changes: CollectionChanges) -> CollectionRow:
    row = await get_collection_row(ctx, collection_id)
    if "name" in changes:
        row.name = _clean_name(changes["name"])
        if await CollectionRow.filter(name=row.name).exclude(id=row.id).exists():
            raise _name_taken(row.name)
    if "description" in changes:
        row.description = _clean_description(changes["description"])
    if "max_persons" in changes:
        row.max_persons = _clean_limit(changes["max_persons"], "maxPersons")
    if "max_faces" in changes:
        row.max_faces = _clean_limit(changes["max_faces"], "maxFaces")
    try:
        await row.save()
    except IntegrityError:
        raise _name_taken(row.name) from None
    return row


async def delete_collection(ctx: Context, collection_id: str) -> CollectionDeletion:
    row = await get_collection_row(ctx, collection_id)
    if row.id == DEFAULT_COLLECTION_ID:
        raise invalid("the default collection cannot be deleted (delete its persons instead)")

    async def remove() -> CollectionDeletion:
        async with in_transaction():
            # The collection's row first, as every writer that locks it does (no deadlock with a job's switch).
            await CollectionRow.filter(id=row.id).select_for_update().first()
            faces = await FaceRow.filter(collection_id=row.id).delete()
            persons = await PersonRow.filter(collection_id=row.id).delete()
            await row.delete()
        await ctx.services.search.deleted_collection(str(row.id))
        await scrub_deleted()
        return CollectionDeletion(str(row.id), persons, faces)

    return await uninterrupted(remove())


class CollectionCounts(TypedDict):
    name: str
    persons: int
    faces: int


async def collection_counts(principal: Principal) -> dict[str, CollectionCounts]:
    """Each collection the caller sees, by id: its name, persons and faces (for /metrics)."""
    named = {str(row_id): name for row_id, name in await _seen_by(principal).values_list("id", "name")}
    ids = list(named)
    persons, faces = await counts_by(PersonRow, "collection_id", ids), await counts_by(FaceRow, "collection_id", ids)
    return {
        row_id: CollectionCounts(name=named[row_id], persons=person_count, faces=face_count)
        for row_id, person_count, face_count in zip(ids, persons, faces, strict=True)
    }


async def check_room_for_person(collection_id: uuid.UUID) -> None:
    """LIMIT_REACHED when the collection holds its maxPersons (inside the write's transaction)."""
    row = await CollectionRow.get(id=collection_id)
    if row.max_persons is not None and await PersonRow.filter(collection_id=row.id).count() >= row.max_persons:
        raise limit_reached(
            f"collection {row.name!r} holds its most persons ({row.max_persons})", "maxPersons", row.max_persons
        )


async def check_model_unchanged(collection_id: uuid.UUID, embedded_by: str) -> CollectionRow:
    """The collection, if it is still pinned to `embedded_by`, the model a face about to be written was embedded
    with; BUSY else. Inside the write's transaction: the row is locked (PostgreSQL; SQLite runs one write at a
    time), so that a reembedCollection switching the collection to another model either waits for this face,
    and carries it over, or has switched already and this write fails, to be tried again under the new model.
    """
    row = await CollectionRow.filter(id=collection_id).select_for_update().get()
    if row.model != embedded_by:
        raise busy(f"collection {row.name!r} moved to model {row.model} while the photo was embedded; try again")
    return row


async def check_room_for_faces(collection_id: uuid.UUID, embedded_by: str | None = None) -> CollectionRow:
    """The collection; LIMIT_REACHED when it holds its maxFaces. Inside the write's transaction with
    `embedded_by` (see check_model_unchanged)."""
    if embedded_by is None:
        row = await CollectionRow.get(id=collection_id)
    else:
        row = await check_model_unchanged(collection_id, embedded_by)
    if row.max_faces is not None and await FaceRow.filter(collection_id=row.id).count() >= row.max_faces:
        raise limit_reached(
            f"collection {row.name!r} holds its most faces ({row.max_faces})", "maxFaces", row.max_faces
        )
    return row
