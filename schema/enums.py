"""The GraphQL enums, built from the domain's own (auth.scopes.Scope, errors.ErrorCode, enrolment's warnings, ...).

Each keeps its GraphQL name (`ApiScope`, `ErrorCode`, `EnrolmentWarningCode`) and gets a Python name
of its own, so that the domain enum and its GraphQL form are never confused in an import.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from auth.scopes import SCOPE_DESCRIPTIONS, Scope
from errors import ERROR_DESCRIPTIONS, ErrorCode
from resolvers.enrolment import WarningKind
from resolvers.jobs import JobState
from resolvers.liveness import INSTRUCTIONS, Challenge, FailedCheck
from search.calibration import CalibrationSource

ApiScopeEnum = strawberry.enum(  # type: ignore[call-overload]  # a functional Enum, built from auth's Scope
    Enum(
        "ApiScope",
        {scope.name: strawberry.enum_value(scope.value, description=SCOPE_DESCRIPTIONS[scope]) for scope in Scope},
    ),
    description="What an API key may do. Each field's description names the scope it needs.",
)

# Documents every error code a client can meet, in the schema itself.
ErrorCodeEnum = strawberry.enum(  # type: ignore[call-overload]  # a functional Enum, built from errors.ErrorCode
    Enum(
        "ErrorCode",
        {code.name: strawberry.enum_value(code.value, description=ERROR_DESCRIPTIONS[code]) for code in ErrorCode},
    ),
    description="The values of `extensions.code` on errors.",
)

_WARNING_DESCRIPTIONS = {
    WarningKind.SAME_IMAGE_ENROLLED: "The same image bytes are already a face (`faceId`, `personId`).",
    WarningKind.MATCHES_OTHER_PERSON: "The face matches another person at the shipped threshold (`personId`, "
    "`faceId`, `distance`): perhaps the wrong person, or the same person twice. `rejectIfMatchesOther: true` "
    "makes it an error.",
}
EnrolmentWarningCodeEnum = strawberry.enum(  # type: ignore[call-overload]  # built from resolvers' WarningKind
    Enum(
        "EnrolmentWarningCode",
        {kind.name: strawberry.enum_value(kind.value, description=_WARNING_DESCRIPTIONS[kind]) for kind in WarningKind},
    ),
    description="What may be wrong with a face just enrolled.",
)

_SOURCE_DESCRIPTIONS = {
    CalibrationSource.LFW: "LFW's table alone (weights/calibration.json): the gallery holds too few persons yet, "
    "or GALLERY_CALIBRATION_INTERVAL_S is 0.",
    CalibrationSource.GALLERY: "The gallery's own pairs, blended with LFW's table (the README's accuracy section "
    "gives the rule).",
}
CalibrationSourceEnum = strawberry.enum(  # type: ignore[call-overload]  # built from search's CalibrationSource
    Enum(
        "CalibrationSource",
        {s.name: strawberry.enum_value(s.value, description=_SOURCE_DESCRIPTIONS[s]) for s in CalibrationSource},
    ),
    description="Where the false match rates come from.",
)

_JOB_STATE_DESCRIPTIONS = {
    JobState.RUNNING: "At work (a restart resumes it).",
    JobState.SUCCEEDED: "Done: the collection is searched with the new model.",
    JobState.FAILED: "Stopped on an error (`error`); the collection is still searched with the old model.",
}
JobStateEnum = strawberry.enum(  # type: ignore[call-overload]  # built from resolvers' JobState
    Enum(
        "JobState",
        {s.name: strawberry.enum_value(s.value, description=_JOB_STATE_DESCRIPTIONS[s]) for s in JobState},
    ),
    description="Where a background job is.",
)

LivenessChallengeEnum = strawberry.enum(  # type: ignore[call-overload]  # built from ml.liveness's Challenge
    Enum(
        "LivenessChallenge",
        {c.name: strawberry.enum_value(c.value, description=f"{INSTRUCTIONS[c]}.") for c in Challenge},
    ),
    description="A head move a liveness session asks for, in the person's own terms (their left is the "
    "camera's right).",
)

_CHECK_DESCRIPTIONS = {
    FailedCheck.FRAMES: "Too few frames for the challenges, or too many moves without meeting them.",
    FailedCheck.ONE_FACE: "A frame showed no face or more than one (checkLiveness), or two faces were in view "
    "(livenessCheck).",
    FailedCheck.FRONTAL: "The first frame did not show the face from the front.",
    FailedCheck.FROZEN: "Two frames showed the same picture: a frozen or replayed feed.",
    FailedCheck.TRACK: "The face jumped between frames: not one continuous face.",
    FailedCheck.IDENTITY: "The face became another person's during the session.",
    FailedCheck.ORDER: "Another challenge's move was made before the one asked.",
    FailedCheck.FLAT: "The face moved as a flat picture does (a photo or screen tilted): no parallax.",
    FailedCheck.CHALLENGE: "A challenge was not met (in time).",
}
LivenessCheckEnum = strawberry.enum(  # type: ignore[call-overload]  # built from ml.liveness's FailedCheck
    Enum(
        "LivenessCheck",
        {c.name: strawberry.enum_value(c.value, description=_CHECK_DESCRIPTIONS[c]) for c in FailedCheck},
    ),
    description="The check a liveness session failed.",
)
