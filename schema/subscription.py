"""The Subscription root: live recognition and liveness over WebSocket (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from auth.rate import RateKind
from auth.scopes import Scope
from bounds import LIVE_FACES_MAX
from resolvers import live, verification
from resolvers.context import Info
from resolvers.verification import Cutoff
from schema.collections import CollectionArgument
from schema.jobs import JobSubscription
from schema.live_types import LiveFrame, Stream
from schema.liveness import LivenessSubscription
from schema.query import MaxFalseMatchRate, Threshold
from schema.scoped import scoped_subscription


@strawberry.type(description="Streams over WebSocket (graphql-transport-ws at /graphql).")
class Subscription(JobSubscription, LivenessSubscription):
    @scoped_subscription(
        Scope.VERIFY,
        "Live recognition from a camera. Opens the stream `stream` on this WebSocket connection and answers "
        "every frame sendLiveFrame puts in it (send them over the same connection, e.g. JPEGs of about "
        f"640x480), with each face's box (the {LIVE_FACES_MAX} largest), track, best candidate and `match`. "
        "The newest frame wins: a frame that arrives while an older one waits replaces it, so answers never "
        "fall behind the camera. A bad frame answers with `error` and the stream goes on. Faces are tracked "
        "across frames and re-identified when their identity ages, not every frame. Completing the "
        "subscription closes the stream, and so do LIVE_IDLE_TIMEOUT_S (30 s) without a frame, with a "
        "REQUEST_TIMEOUT error. A key holds at most LIVE_STREAMS_PER_KEY (2) streams at once, the server "
        "LIVE_STREAMS_MAX (8): one more is BUSY. Opening one counts as one call against the rate limit and is "
        "audited once, refused or not.",
        rate=RateKind.VERIFY,
    )
    async def live_recognition(
        self,
        info: Info,
        stream: Stream,
        threshold: Threshold = None,
        max_false_match_rate: MaxFalseMatchRate = None,
        min_face_size: Annotated[
            int | None,
            strawberry.argument(
                description="Smallest face to look for, in pixels (12 to 1000); null: the server's "
                "LIVE_MIN_FACE_SIZE (40). Smaller finds faces farther away, at more cost per frame."
            ),
        ] = None,
        collection: CollectionArgument = None,
    ) -> AsyncGenerator[LiveFrame, None]:
        # Only the best candidate is shown per face: a limit of 1 person.
        options = verification.search_options(
            info.context, Cutoff(threshold, max_false_match_rate), 1, True, collection
        )
        return LiveFrame.each(await live.open_stream(info.context, stream, options, min_face_size))
