"""Liveness's types: the session startLiveness hands out, the result, and livenessCheck's progress."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime

import strawberry

from ml.liveness import Pose
from resolvers.liveness import INSTRUCTIONS, LivenessOutcome, LivenessUpdate, Ticket
from schema.enums import LivenessChallengeEnum, LivenessCheckEnum
from schema.live_types import LiveError
from schema.types import Verification

LOOK_AT_THE_CAMERA = "Look straight at the camera"


@strawberry.type(description="A liveness session: the challenges to meet, in order, before it expires.")
class LivenessSession:
    id: strawberry.ID = strawberry.field(description="The session's id: checkLiveness's or livenessCheck's `session`.")
    challenges: list[LivenessChallengeEnum] = strawberry.field(
        description="The head moves to make, in this order, after a first look from the front."
    )
    instructions: list[str] = strawberry.field(description="The same, in words to show the person.")
    expires_at: datetime = strawberry.field(description="When it can no longer be checked (UTC).")
    person_id: strawberry.ID | None = strawberry.field(
        description="Whom a live session is verified against; null for liveness alone."
    )

    @classmethod
    def of(cls, ticket: Ticket) -> LivenessSession:
        return cls(
            id=strawberry.ID(ticket.id),
            challenges=list(ticket.challenges),
            instructions=[INSTRUCTIONS[challenge] for challenge in ticket.challenges],
            expires_at=ticket.expires_at,
            person_id=strawberry.ID(ticket.person_id) if ticket.person_id else None,
        )


@strawberry.type(description="A face's pose against the session's first frame, from its landmarks.")
class LivenessPose:
    yaw_degrees: float = strawberry.field(description="The turn: + to the person's left, - to their right.")
    pitch_degrees: float = strawberry.field(description="The nod: + up, - down.")
    scale: float = strawberry.field(description="The face's size against the first frame's (1.3: come closer).")

    @classmethod
    def of(cls, pose: Pose) -> LivenessPose:
        return cls(
            yaw_degrees=round(pose.yaw_deg, 1), pitch_degrees=round(pose.pitch_deg, 1), scale=round(pose.scale, 2)
        )


@strawberry.type(description="A liveness session's verdict, and with a person the verification in the same answer.")
class LivenessResult:
    session_id: strawberry.ID = strawberry.field(description="The session judged.")
    live: bool = strawberry.field(
        description="True when one live face met every challenge, in order: not a photo, a screen, a replay or "
        "a swap (the README says what it cannot tell)."
    )
    score: float = strawberry.field(
        description="The weakest challenge's move over what meeting it takes: 1 just met, more is clearer; 0 when "
        "not live."
    )
    failed_check: LivenessCheckEnum | None = strawberry.field(description="Why it is not live; null when live.")
    reason: str = strawberry.field(description="The same, for people, naming the frame where it could.")
    frames: int = strawberry.field(description="Frames judged (for livenessCheck, those kept: each a new pose).")
    met_challenges: int = strawberry.field(description="Challenges met, in order, before it was decided.")
    verification: Verification | None = strawberry.field(
        description="For a session of a person, when live: the most frontal frame verified against that person "
        "(as verifyPerson, at the model's threshold). Null without a person or when not live: a match "
        "counts only together with `live`."
    )
    outcome: strawberry.Private[LivenessOutcome]

    @classmethod
    def of(cls, outcome: LivenessOutcome) -> LivenessResult:
        verdict = outcome.verdict
        return cls(
            session_id=strawberry.ID(outcome.session_id),
            live=verdict.live,
            score=round(verdict.score, 2),
            failed_check=verdict.failed,
            reason=verdict.reason,
            frames=verdict.frames,
            met_challenges=verdict.met,
            verification=None if outcome.verification is None else Verification.of(outcome.verification),
            outcome=outcome,
        )


@strawberry.type(description="livenessCheck's word after each frame: what to do now, how far along, and the end.")
class LivenessProgress:
    frame: int | None = strawberry.field(description="The frame this is about (sendLiveFrame's); null at the start.")
    asked: LivenessChallengeEnum | None = strawberry.field(
        description="The challenge to meet now; null until a first frame shows the face from the front, and at the end."
    )
    instruction: str = strawberry.field(description="What to tell the person now.")
    met_challenges: int = strawberry.field(description="Challenges met so far.")
    face_in_view: bool = strawberry.field(description="Whether this frame showed one face.")
    pose: LivenessPose | None = strawberry.field(description="This frame's pose against the first; null without one.")
    error: LiveError | None = strawberry.field(description="Why this frame could not be used (BAD_IMAGE, BUSY).")
    seconds_left: float = strawberry.field(
        description="Seconds left to make the move asked now (or before the session expires, if sooner)."
    )
    result: LivenessResult | None = strawberry.field(
        description="The verdict, on the last update; then the stream ends."
    )

    @classmethod
    def of(cls, update: LivenessUpdate) -> LivenessProgress:
        step = update.step
        if update.outcome is not None:
            instruction = "Done" if update.outcome.verdict.live else update.outcome.verdict.reason
        else:
            instruction = LOOK_AT_THE_CAMERA if step.asked is None else INSTRUCTIONS[step.asked]
        return cls(
            frame=update.frame,
            asked=None if update.outcome is not None else step.asked,
            instruction=instruction,
            met_challenges=step.met,
            face_in_view=step.face,
            pose=None if step.pose is None else LivenessPose.of(step.pose),
            error=None if update.error is None else LiveError.of(update.error),
            seconds_left=update.seconds_left,
            result=None if update.outcome is None else LivenessResult.of(update.outcome),
        )

    @classmethod
    async def each(cls, updates: AsyncGenerator[LivenessUpdate, None]) -> AsyncGenerator[LivenessProgress, None]:
        async with aclosing(updates):  # closing the subscription closes the session's stream at once
            async for update in updates:
                yield cls.of(update)
