"""Collections in the schema: the type, its inputs, and the root fields that list, create, change and delete them.

Query and Mutation (schema/query.py, schema/mutation.py) take these fields by inheritance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from auth.scopes import Scope
from bounds import COLLECTION_DESCRIPTION_MAX, COLLECTION_NAME_MAX, COLLECTIONS_MAX
from models import Collection as CollectionRow
from resolvers import collections
from resolvers.collections import CollectionChanges, CollectionDeletion
from resolvers.context import Info
from schema.contract import Cost
from schema.scoped import scoped_field, scoped_mutation

CollectionArgument = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The collection to act in; left out: the API key's only collection, else `default`. One the "
        "key may not see is NOT_FOUND."
    ),
]
CollectionId = Annotated[strawberry.ID, strawberry.argument(description="The collection's id.")]


@strawberry.type(
    description="A gallery of its own: persons, their faces and the model they are embedded with. A 1:K search "
    "runs in one collection and never meets another's persons; an API key bound to collections sees only those."
)
class Collection:
    id: strawberry.ID = strawberry.field(description="The collection's id, a UUID.")
    name: str = strawberry.field(description=f"Its name, unique on the server, 1 to {COLLECTION_NAME_MAX} characters.")
    description: str = strawberry.field(description="What it is for; may be empty.")
    model: str = strawberry.field(
        description="Id of the embedding model its photos are embedded, searched and thresholded with (one of "
        "`models`); reembedCollection moves it to another."
    )
    max_persons: int | None = strawberry.field(
        description="The most persons it may hold (createPerson beyond: LIMIT_REACHED); null: no limit of its own."
    )
    max_faces: int | None = strawberry.field(
        description="The most faces it may hold (createFace beyond: LIMIT_REACHED); null: no limit of its own."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it was last changed (UTC).")

    @classmethod
    def from_row(cls, row: CollectionRow) -> Collection:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            description=row.description,
            model=row.model,
            max_persons=row.max_persons,
            max_faces=row.max_faces,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="How many persons it holds.")
    async def person_count(self, info: Info) -> int:
        return await info.context.loaders.collection_persons.load(self.id)

    @strawberry.field(description="How many faces it holds (of every model).")
    async def face_count(self, info: Info) -> int:
        return await info.context.loaders.collection_faces.load(self.id)


@strawberry.type(description="What deleteCollection removed.")
class CollectionDeleted:
    id: strawberry.ID = strawberry.field(description="Id of the deleted collection.")
    deleted_persons: int = strawberry.field(description="How many persons were deleted with it.")
    deleted_faces: int = strawberry.field(description="How many faces were deleted with it.")

    @classmethod
    def of(cls, deletion: CollectionDeletion) -> CollectionDeleted:
        return cls(
            id=strawberry.ID(deletion.id),
            deleted_persons=deletion.deleted_persons,
            deleted_faces=deletion.deleted_faces,
        )


@strawberry.input(description="A new collection.")
class CollectionInput:
    name: str = strawberry.field(description=f"Its name, unique on the server, 1 to {COLLECTION_NAME_MAX} characters.")
    description: str = strawberry.field(
        default="", description=f"What it is for, at most {COLLECTION_DESCRIPTION_MAX} characters."
    )
    model: str | None = strawberry.field(
        default=None,
        description="The embedding model it is pinned to, one this server has loaded (`models`), by id or "
        "EMBEDDERS name; left out: the default (`model`).",
    )
    max_persons: int | None = strawberry.field(
        default=None, description="The most persons it may hold; null: no limit."
    )
    max_faces: int | None = strawberry.field(default=None, description="The most faces it may hold; null: no limit.")


@strawberry.input(description="Changes to a collection; fields left out stay as they are, null clears a limit.")
class CollectionPatch:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New description.")
    max_persons: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="New person limit (one already passed keeps what it holds and takes no more); null removes it.",
    )
    max_faces: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="New face limit (one already passed keeps what it holds and takes no more); null removes it.",
    )

    def changes(self) -> CollectionChanges:
        """The fields given, without those left out; a null name or description is ignored as left out."""
        changes = CollectionChanges()
        if self.name is not strawberry.UNSET and self.name is not None:
            changes["name"] = self.name
        if self.description is not strawberry.UNSET and self.description is not None:
            changes["description"] = self.description
        if self.max_persons is not strawberry.UNSET:
            changes["max_persons"] = self.max_persons
        if self.max_faces is not strawberry.UNSET:
            changes["max_faces"] = self.max_faces
        return changes


@strawberry.type
class CollectionQuery:
    @scoped_field(
        Scope.READ,
        f"The collections this API key may see, oldest first (a server holds at most {COLLECTIONS_MAX}).",
        cost=Cost(length=COLLECTIONS_MAX),
    )
    async def collections(self, info: Info) -> list[Collection]:
        return [Collection.from_row(row) for row in await collections.collections(info.context)]

    @scoped_field(Scope.READ, "One collection, or null if the id names none this API key may see.")
    async def collection(self, info: Info, id: CollectionId) -> Collection | None:
        row = await collections.collection(info.context, id)
        return None if row is None else Collection.from_row(row)


@strawberry.type
class CollectionMutation:
    @scoped_mutation(
        Scope.ADMIN,
        "Create a collection (an API key bound to collections may not: FORBIDDEN). Bind keys to it with "
        "createApiKey's `collections`.",
        audited=True,
    )
    async def create_collection(
        self, info: Info, input: Annotated[CollectionInput, strawberry.argument(description="The new collection.")]
    ) -> Collection:
        row = await collections.create_collection(
            info.context, input.name, input.description, input.model, input.max_persons, input.max_faces
        )
        return Collection.from_row(row)

    @scoped_mutation(Scope.ADMIN, "Rename a collection, or change its description or limits.", audited=True)
    async def update_collection(
        self,
        info: Info,
        id: CollectionId,
        input: Annotated[CollectionPatch, strawberry.argument(description="The changes.")],
    ) -> Collection:
        return Collection.from_row(await collections.update_collection(info.context, id, input.changes()))

    @scoped_mutation(
        Scope.ADMIN,
        "Delete a collection with every person and face in it, leaving no copy in the database (as deletePerson). "
        "The default collection cannot be deleted.",
        audited=True,
    )
    async def delete_collection(self, info: Info, id: CollectionId) -> CollectionDeleted:
        return CollectionDeleted.of(await collections.delete_collection(info.context, id))
