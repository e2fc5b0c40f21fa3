"""Live recognition's types: what liveRecognition answers per frame, and sendLiveFrame's receipt."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated

import strawberry

from bounds import LIVE_FACES_MAX, LIVE_STREAM_NAME_MAX
from errors import ApiError
from resolvers.live import FrameAnswer, FrameReceipt, SeenFace
from schema.contract import Cost, declared
from schema.enums import ErrorCodeEnum
from schema.types import Box, Candidate

Stream = Annotated[
    str,
    strawberry.argument(
        description=f"The live stream's name, 1 to {LIVE_STREAM_NAME_MAX} characters, chosen by the client; "
        "unique on its WebSocket connection."
    ),
]


@strawberry.type(description="Why a frame has no faces in its answer: the frame was bad or the server busy.")
class LiveError:
    code: ErrorCodeEnum = strawberry.field(
        description="What went wrong, as `extensions.code` would say: BAD_IMAGE, BUSY, ..."
    )
    message: str = strawberry.field(description="What went wrong, for people.")

    @classmethod
    def of(cls, error: ApiError) -> LiveError:
        return cls(code=error.code, message=error.message)


@strawberry.type(description="A face in a live frame, and who it is.")
class LiveFace:
    track: int = strawberry.field(
        description="The same number for the same face from frame to frame, while it stays in view (boxes "
        "are followed by their overlap); a face that comes back after a second gets a new one."
    )
    box: Box = strawberry.field(description="Where the face is in this frame, in the frame's pixels.")
    score: float | None = strawberry.field(description="The detector's confidence, if it gives one.")
    match: bool = strawberry.field(description="True when `best` is within the threshold: this is that person.")
    best: Candidate | None = strawberry.field(
        description="The nearest enrolled person, whether or not within the threshold; null with an empty gallery."
    )
    identified_now: bool = strawberry.field(
        description="True when this frame's face went through the embedder; false when `match` and `best` "
        "are carried over from an earlier frame of the same track (a known face is checked again about "
        "every second, an unknown one four times a second)."
    )
    identified_ms_ago: float = strawberry.field(description="Milliseconds since this track was last identified.")

    @classmethod
    def of(cls, seen: SeenFace) -> LiveFace:
        best = seen.verdict.best
        return cls(
            track=seen.track,
            box=Box.of(seen.box),
            score=seen.score,
            match=seen.verdict.match,
            best=None if best is None else Candidate.of(best),
            identified_now=seen.identified_now,
            identified_ms_ago=seen.identified_ms_ago,
        )


@strawberry.type(description="The answer to one frame of a live stream.")
class LiveFrame:
    frame: int = strawberry.field(description="The frame's number, as sendLiveFrame gave it.")
    faces: list[LiveFace] = strawberry.field(
        description="Every face found (the largest few), left to right.",
        metadata=declared(Cost(length=LIVE_FACES_MAX)),
    )
    error: LiveError | None = strawberry.field(
        description="Set when the frame could not be looked at; the stream goes on."
    )
    dropped_frames: int = strawberry.field(
        description="Frames of this stream replaced by a newer one before the server got to them, so far."
    )
    server_ms: float = strawberry.field(description="Milliseconds from the frame's arrival to this answer.")

    @classmethod
    def of(cls, answer: FrameAnswer) -> LiveFrame:
        return cls(
            frame=answer.frame,
            faces=[LiveFace.of(face) for face in answer.faces],
            error=None if answer.error is None else LiveError.of(answer.error),
            dropped_frames=answer.dropped_frames,
            server_ms=answer.server_ms,
        )

    @classmethod
    async def each(cls, answers: AsyncGenerator[FrameAnswer, None]) -> AsyncGenerator[LiveFrame, None]:
        """The stream's answers as LiveFrames; closing this closes the stream at once (its slot goes back)."""
        async with aclosing(answers):
            async for answer in answers:
                yield cls.of(answer)


@strawberry.type(description="A frame taken into a live stream's one-frame mailbox, or turned away.")
class LiveFrameReceipt:
    frame: int = strawberry.field(description="The frame's number.")
    accepted: bool = strawberry.field(
        description="False when the stream had already taken a frame of this number or a later one: this one "
        "is dropped, never answered. Frames are answered in the order of their numbers, and a late frame never "
        "replaces a newer one."
    )
    replaced_frame: int | None = strawberry.field(
        description="The number of the older frame this one replaced before it was looked at (dropped, never "
        "answered), if any."
    )

    @classmethod
    def of(cls, receipt: FrameReceipt) -> LiveFrameReceipt:
        return cls(frame=receipt.frame, accepted=receipt.accepted, replaced_frame=receipt.replaced_frame)
