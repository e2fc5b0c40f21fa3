"""mergePersons: two records of one person become one, with every face of both."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from auth.access import require
from auth.scopes import Scope
from bounds import FACES_PER_PERSON_MAX
from errors import invalid, not_found
from models import Face as FaceRow
from models import Person as PersonRow
from models import scrub_deleted
from resolvers.context import Context
from resolvers.faces import stored_vector
from resolvers.persons import get_person_row
from resolvers.writes import uninterrupted


async def merge_persons(ctx: Context, into_id: str, from_id: str) -> PersonRow:
    """Move every face of `from_id` to `into_id` and delete `from_id`; `into_id` as it is now.

    `into_id` keeps its name, external id and metadata. The faces keep their ids, embeddings and
    crops, so nothing is embedded again. Deleting a person needs DELETE besides the field's ENROL.
    """
    require(ctx.principal, Scope.DELETE)
    into, source = await get_person_row(ctx, into_id), await get_person_row(ctx, from_id)
    if into.id == source.id:
        raise invalid("a person cannot be merged into itself")
    if into.collection_id != source.collection_id:
        raise invalid("persons merge only within one collection")
    collection = str(into.collection_id)

    async def merge() -> list[FaceRow]:
        async with in_transaction():
            if not await PersonRow.filter(id=into.id).exists():
                raise not_found("person", into_id)
            moving = await FaceRow.filter(person_id=source.id).select_for_update()
            total = await FaceRow.filter(person_id=into.id).count() + len(moving)
            if total > FACES_PER_PERSON_MAX:
                raise invalid(
                    f"together they have {total} faces and a person has at most {FACES_PER_PERSON_MAX}; "
                    "delete some first"
                )
            await FaceRow.filter(id__in=[face.id for face in moving]).update(person_id=into.id)
            # A face enrolled for `from` meanwhile goes with it, as deletePerson would take it.
            await FaceRow.filter(person_id=source.id).delete()
            await PersonRow.filter(id=source.id).delete()
            await into.save(update_fields=["updated_at"])
        # Only after the commit, as every write: the search mirrors what the database holds.
        for face in moving:
            await ctx.services.search.moved(
                str(face.id), str(into.id), collection, face.model, face.model, stored_vector(face)
            )
        await ctx.services.search.deleted_person(str(source.id), collection)
        await scrub_deleted()
        return moving

    await uninterrupted(merge())
    return await get_person_row(ctx, into_id)
