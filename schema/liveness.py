"""Liveness in the schema: startLiveness, checkLiveness (a burst over HTTP) and livenessCheck (a camera over WebSocket).

Mutation and Subscription (schema/mutation.py, subscription.py) take these fields by inheritance.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from auth.rate import RateKind
from auth.scopes import Scope
from bounds import (
    LIVENESS_CHALLENGE_WINDOW_S,
    LIVENESS_CHALLENGES_MAX,
    LIVENESS_FRAMES_MAX,
    LIVENESS_SESSION_TTL_S,
    SEARCH_LIMIT_MAX,
)
from resolvers import liveness
from resolvers.context import Info
from schema.collections import CollectionArgument
from schema.contract import Cost
from schema.inputs import ImageInput
from schema.liveness_types import LivenessProgress, LivenessResult, LivenessSession
from schema.scoped import scoped_mutation, scoped_subscription

SessionId = Annotated[strawberry.ID, strawberry.argument(description="The session's id, from startLiveness.")]

_WHAT_IS_JUDGED = (
    "Live means: one face throughout, on one track, of one identity, never the same picture twice, a first look "
    "from the front, then each challenge met in order with no other turn made first, and the turns made with "
    "parallax (the nose moving against the eyes and mouth, which a tilted photo or screen cannot do)."
)


@strawberry.type
class LivenessMutation:
    @scoped_mutation(
        Scope.VERIFY,
        f"Start a liveness session: the server draws 1 to {LIVENESS_CHALLENGES_MAX} head moves (at least one "
        "turn or nod) in random order, to be met within "
        f"{LIVENESS_SESSION_TTL_S} s, once, by this key, with checkLiveness or livenessCheck. With `personId`, "
        "a live session is verified against that person in the same answer (liveness with verify).",
        rate=RateKind.VERIFY,
        audited=True,
    )
    async def start_liveness(
        self,
        info: Info,
        person_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Whom to verify the live face against; null for liveness alone."),
        ] = None,
        challenges: Annotated[
            int, strawberry.argument(description=f"How many moves to ask for, 1 to {LIVENESS_CHALLENGES_MAX}.")
        ] = 3,
        collection: CollectionArgument = None,
    ) -> LivenessSession:
        ticket = await liveness.start_liveness(info.context, person_id, challenges, collection)
        return LivenessSession.of(ticket)

    @scoped_mutation(
        Scope.VERIFY,
        "Judge a liveness session on a burst of camera frames sent in one request (for clients without "
        "WebSocket): first a frame from the front, then frames of each challenge in turn, in the order taken, "
        f"{LIVENESS_FRAMES_MAX} at most. Each frame is detected and embedded as a photo and counts as one "
        f"against RATE_LIMIT_LIVE_FRAMES. {_WHAT_IS_JUDGED} Uses the session up, whatever the verdict.",
        rate=RateKind.VERIFY,
        cost=Cost(photo="frames", candidates=SEARCH_LIMIT_MAX),  # the person's faces, as verifyPerson
        audited=True,
    )
    async def check_liveness(
        self,
        info: Info,
        session: SessionId,
        frames: Annotated[
            list[ImageInput],
            strawberry.argument(description="The frames, in the order taken: JPEGs of about 640x480."),
        ],
    ) -> LivenessResult:
        photos = [frame.to_photo() for frame in frames]
        return LivenessResult.of(await liveness.check_liveness(info.context, session, photos))


@strawberry.type
class LivenessSubscription:
    @scoped_subscription(
        Scope.VERIFY,
        "Follow a liveness session from a camera: send its frames with sendLiveFrame over this same WebSocket "
        "connection, `stream` set to the session's id (e.g. 5 to 15 a second). The first update asks for a look "
        "from the front; each frame's update says what to do now, how many challenges are met and the pose; "
        f"the last holds the result, and the stream ends. {_WHAT_IS_JUDGED} Each move must come within "
        f"{LIVENESS_CHALLENGE_WINDOW_S} s of the one before (of the first frame, for the first). A frame with no "
        "face is passed over; the session ends when it expires. Opening uses the session up and holds a live "
        "stream slot, as "
        "liveRecognition; the open and the outcome are audited.",
        rate=RateKind.VERIFY,
    )
    async def liveness_check(self, info: Info, session: SessionId) -> AsyncGenerator[LivenessProgress, None]:
        return LivenessProgress.each(await liveness.follow_liveness(info.context, session))
