"""Background jobs in the schema: the Job type, reembedCollection, `job(id:)` and jobProgress.

Query, Mutation and Subscription (schema/query.py, mutation.py, subscription.py) take these fields by inheritance.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from auth.scopes import Scope
from resolvers import jobs
from resolvers.context import Info
from resolvers.jobs import JOB_SKIPPED_KEPT, JobProgress
from schema.collections import CollectionId
from schema.contract import Cost, declared
from schema.enums import JobStateEnum
from schema.scoped import scoped_field, scoped_mutation, scoped_subscription

JobId = Annotated[strawberry.ID, strawberry.argument(description="The job's id (from reembedCollection).")]


@strawberry.type(description="A face a job could not carry over, and why.")
class JobSkippedFace:
    face_id: strawberry.ID = strawberry.field(description="The face's id.")
    reason: str = strawberry.field(description="Why its stored crop gave no embedding.")


@strawberry.type(
    description="A background job: reembedCollection's move of a collection to another model. While it runs, "
    "the collection is searched with the old model; when it ends, with the new one."
)
class Job:
    id: strawberry.ID = strawberry.field(description="The job's id.")
    kind: str = strawberry.field(description="What it does: `reembedCollection`.")
    collection_id: strawberry.ID = strawberry.field(description="The collection it works on.")
    from_model: str = strawberry.field(description="The model the collection was searched with when it began.")
    to_model: str = strawberry.field(description="The model it moves the collection to.")
    state: JobStateEnum = strawberry.field(description="RUNNING, SUCCEEDED or FAILED.")
    total: int = strawberry.field(description="Faces in the collection (counted again as the job goes).")
    done: int = strawberry.field(description="Faces embedded by the new model so far.")
    skipped_count: int = strawberry.field(
        description="Faces whose stored crop gave no embedding (none stored, or no face found in it): they stay "
        "under the old model, which no longer searches the collection once the job ends."
    )
    skipped: list[JobSkippedFace] = strawberry.field(
        description=f"The first {JOB_SKIPPED_KEPT} of those, with why.",
        metadata=declared(Cost(length=JOB_SKIPPED_KEPT)),
    )
    progress: float = strawberry.field(description="Share of the faces handled, 0 to 1.")
    eta_seconds: float | None = strawberry.field(
        description="Seconds left at the rate so far; null before the first face and once finished."
    )
    error: str | None = strawberry.field(description="Why it failed; null unless FAILED.")
    started_at: datetime = strawberry.field(description="When it began (UTC).")
    updated_at: datetime = strawberry.field(description="When it last made progress (UTC).")
    finished_at: datetime | None = strawberry.field(description="When it ended (UTC); null while running.")

    @classmethod
    def of(cls, job: JobProgress) -> Job:
        row = job.row
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            collection_id=strawberry.ID(str(row.collection_id)),
            from_model=row.from_model,
            to_model=row.to_model,
            state=JobStateEnum[row.state],
            total=row.total,
            done=row.done,
            skipped_count=row.skipped_count,
            skipped=[JobSkippedFace(face_id=strawberry.ID(s["face"]), reason=s["reason"]) for s in row.skipped],
            progress=job.progress,
            eta_seconds=job.eta_s,
            error=row.error,
            started_at=row.started_at,
            updated_at=row.updated_at,
            finished_at=row.finished_at,
        )


@strawberry.type
class JobQuery:
    @scoped_field(Scope.ADMIN, "A background job, or null if the id names none in a collection this key may see.")
    async def job(self, info: Info, id: JobId) -> Job | None:
        found = await jobs.job(info.context, id)
        return None if found is None else Job.of(found)


@strawberry.type
class JobMutation:
    @scoped_mutation(
        Scope.ADMIN,
        "Move a collection to another embedding model without the original photos: a background job re-embeds "
        "every face's stored crop with `model` while 1:K goes on answering with the old one, then switches the "
        "whole collection at once. Follow it with `job(id:)` or jobProgress; a restart resumes it. One job per "
        "collection at a time (another: INVALID_INPUT).",
        audited=True,
    )
    async def reembed_collection(
        self,
        info: Info,
        id: CollectionId,
        model: Annotated[
            str,
            strawberry.argument(description="A model this server has loaded: its id or EMBEDDERS name (`models`)."),
        ],
    ) -> Job:
        return Job.of(await jobs.reembed_collection(info.context, id, model))


@strawberry.type
class JobSubscription:
    @scoped_subscription(
        Scope.ADMIN,
        "A background job's progress: the job now, then each time it changes, until it has finished. An id this "
        "key may not see: NOT_FOUND.",
    )
    async def job_progress(self, info: Info, id: JobId) -> AsyncGenerator[Job, None]:
        async for progress in jobs.job_progress(info.context, id):
            yield Job.of(progress)
