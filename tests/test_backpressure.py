"""Under load the server batches the embedder's work and says BUSY rather than queueing."""

from __future__ import annotations

import asyncio

import devdata
from tests.helpers import b64, start_api

PHOTOS = [photo for photos in devdata.celebrity_photos("train").values() for photo in photos[:4]]
CREATE_FACE = "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }"


async def enrol_all(api, person: str) -> list[dict]:
    bodies = await asyncio.wait_for(
        asyncio.gather(*(api.raw(CREATE_FACE, p=person, b=b64(photo)) for photo in PHOTOS)), timeout=120
    )
    return bodies


async def test_overload_gets_busy_and_nothing_waits_forever(settings, pipeline):
    tight = settings.model_copy(update={"max_pending": 2})
    async with start_api(tight, pipeline) as api:
        person = await api.create_person("Load")
        bodies = await enrol_all(api, person)
        codes = [body["errors"][0]["extensions"]["code"] for body in bodies if "errors" in body]
        created = [body for body in bodies if "errors" not in body]
        assert codes and set(codes) == {"BUSY"}
        retries = [body["errors"][0]["extensions"].get("retryAfter") for body in bodies if "errors" in body]
        assert all(isinstance(wait, int) and wait >= 1 for wait in retries), "BUSY says when to retry"
        assert created, "some requests must get through"
        # The refused requests wrote nothing.
        assert (await api.counts())[1] == len(created) == len(api.gallery)
        assert api.services.engine.pending == 0
        assert api.services.engine.stats.snapshot()["busy"]["items"] == len(codes)


async def test_concurrent_faces_share_embedder_batches(settings, pipeline):
    # A generous batch window, so that the faces of concurrent requests surely meet.
    roomy = settings.model_copy(update={"max_pending": 64, "batch_wait_ms": 250.0})
    async with start_api(roomy, pipeline) as api:
        person = await api.create_person("Batch")
        engine = api.services.engine
        bodies = await enrol_all(api, person)
        assert all("errors" not in body for body in bodies)
        embedded = engine.stats.snapshot()["embed"]
        assert embedded["items"] == len(PHOTOS)
        assert embedded["calls"] < len(PHOTOS)  # at least one batch held several faces
