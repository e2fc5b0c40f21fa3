"""Person queries and mutations."""

from __future__ import annotations

import json
import uuid
from typing import Any, TypedDict

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bounds import EXTERNAL_ID_MAX, METADATA_MAX_BYTES, NAME_MAX, PAGE_SIZE_MAX
from errors import ApiError, invalid, not_found
from models import Face as FaceRow
from models import Person as PersonRow
from models import scrub_deleted
from resolvers.collections import check_room_for_person, check_visible, chosen
from resolvers.context import Context
from resolvers.ids import parse_id
from resolvers.pagination import Page, PageOf, paginate
from resolvers.writes import Deletion, uninterrupted


class PersonChanges(TypedDict, total=False):
    """updatePerson's changes: a key left out stays as it is; None clears (a name cannot be cleared)."""

    name: str | None
    external_id: str | None
    metadata: object
    cover_face_id: str | None


def clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise invalid(f"`name` must be 1 to {NAME_MAX} characters")
    return name


def clean_external_id(external_id: str | None) -> str | None:
    if external_id is None:
        return None
    external_id = external_id.strip()
    if not 1 <= len(external_id) <= EXTERNAL_ID_MAX:
        raise invalid(f"`externalId` must be 1 to {EXTERNAL_ID_MAX} characters")
    return external_id


def clean_metadata(metadata: object) -> dict[str, Any] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise invalid("`metadata` must be a JSON object")
    try:
        text = json.dumps(metadata, allow_nan=False)
    except ValueError:
        raise invalid("`metadata` must be JSON, which has no NaN or Infinity") from None
    if len(text) > METADATA_MAX_BYTES:
        raise invalid(f"`metadata` must be at most {METADATA_MAX_BYTES} bytes of JSON")
    return metadata


async def check_external_id_free(external_id: str | None, collection_id: object, person_id: object = None) -> None:
    """INVALID_INPUT when another person of the collection has this externalId (other collections' do not count)."""
    if external_id is None:
        return
    taken = PersonRow.filter(external_id=external_id, collection_id=collection_id)
    if person_id is not None:
        taken = taken.exclude(id=person_id)
    if await taken.exists():
        raise invalid(f"externalId {external_id!r} is already used by another person of the collection")


def _duplicate_external_id() -> ApiError:
    return invalid("externalId is already used by another person of the collection")


async def person(ctx: Context, person_id: str) -> PersonRow | None:
    """The person, or None if there is none the caller may see."""
    return check_visible(ctx, await PersonRow.get_or_none(id=parse_id(person_id, "person")))


async def get_person_row(ctx: Context, person_id: str) -> PersonRow:
    row = await person(ctx, person_id)
    if row is None:
        raise not_found("person", person_id)
    return row


async def node(ctx: Context, node_id: str) -> PersonRow | FaceRow | None:
    """The person or face with this id (ids are UUIDs, unique across both), if the caller may see it."""
    row_id = parse_id(node_id, "node")
    person_row = await PersonRow.get_or_none(id=row_id)
    if person_row is not None:
        return check_visible(ctx, person_row)
    return check_visible(ctx, await FaceRow.get_or_none(id=row_id))


async def persons(ctx: Context, page: Page, search: str | None, collection: str | None) -> PageOf[PersonRow]:
    if search is not None and len(search) > NAME_MAX:
        raise invalid(f"`search` must be at most {NAME_MAX} characters (a name or an externalId)")
    query = PersonRow.filter(collection_id=(await chosen(ctx, collection)).id)  # one the caller may see
    if search:
        query = query.filter(Q(name__icontains=search.strip()) | Q(external_id=search.strip()))
    return await paginate(query, page, PAGE_SIZE_MAX)


async def create_person(
    ctx: Context, name: str, external_id: str | None, metadata: object, collection: str | None
) -> PersonRow:
    name = clean_name(name)
    external_id = clean_external_id(external_id)
    metadata = clean_metadata(metadata)
    collection_id = (await chosen(ctx, collection)).id
    await check_external_id_free(external_id, collection_id)
    try:
        async with in_transaction():
            await check_room_for_person(collection_id)
            row = await PersonRow.create(
                collection_id=collection_id, name=name, external_id=external_id, metadata=metadata
            )
    except IntegrityError:  # lost a race for the same externalId
        raise _duplicate_external_id() from None
    return row


async def update_person(ctx: Context, person_id: str, changes: PersonChanges) -> PersonRow:
    row = await get_person_row(ctx, person_id)
    if "name" in changes:
        name = changes["name"]
        if name is None:
            raise invalid("`name` cannot be null")
        row.name = clean_name(name)
    if "external_id" in changes:
        row.external_id = clean_external_id(changes["external_id"])
        await check_external_id_free(row.external_id, row.collection_id, row.id)
    if "metadata" in changes:
        row.metadata = clean_metadata(changes["metadata"])
    if "cover_face_id" in changes:
        row.cover_face_id = await _own_face(row, changes["cover_face_id"])
    try:
        await row.save()
    except IntegrityError:
        raise _duplicate_external_id() from None
    return row


async def _own_face(person: PersonRow, face_id: str | None) -> uuid.UUID | None:
    """`face_id` as the person's cover, which it must be one of their faces to be; None stays None."""
    if face_id is None:
        return None
    face = parse_id(face_id, "face")
    if not await FaceRow.filter(id=face, person_id=person.id).exists():
        raise invalid(f"face {face_id} is not one of this person's faces")
    return face


async def delete_person(ctx: Context, person_id: str) -> Deletion:
    row = await get_person_row(ctx, person_id)

    async def remove() -> int:
        async with in_transaction():
            deleted_faces = await FaceRow.filter(person_id=row.id).delete()
            await row.delete()
        # Only after the commit: a failed delete leaves the search as the database is.
        await ctx.services.search.deleted_person(str(row.id), str(row.collection_id))
        await scrub_deleted()
        return deleted_faces

    deleted_faces = await uninterrupted(remove())
    return Deletion(str(row.id), deleted_faces)
