"""Error codes: the one place that names them and maps failures onto them.

Every error a client sees carries `extensions.code`, one of ErrorCode; the message
is written for the client and never holds a stack trace or an internal path.
"""

from __future__ import annotations

from enum import StrEnum

from ml import errors as ml_errors


class ErrorCode(StrEnum):
    BAD_IMAGE = "BAD_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    NO_FACE = "NO_FACE"
    TOO_MANY_FACES = "TOO_MANY_FACES"
    LOW_QUALITY = "LOW_QUALITY"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    BUSY = "BUSY"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL = "INTERNAL"


ERROR_DESCRIPTIONS = {
    ErrorCode.BAD_IMAGE: "Not an image, an unsupported format, truncated or empty.",
    ErrorCode.IMAGE_TOO_LARGE: "Over the byte limit or the pixel limit (decompression bombs).",
    ErrorCode.NO_FACE: "No face was found in the image.",
    ErrorCode.TOO_MANY_FACES: "Several faces were found and rejectMultiple asked for exactly one.",
    ErrorCode.LOW_QUALITY: "The face is below an enrolment minimum; `extensions.reason` names the first "
    "(TOO_SMALL, BLURRED, POSE, LOW_CONFIDENCE) and `extensions.reasons` all of them. Send a better photo, or "
    "pass allowLowQuality: true to enrol it anyway.",
    ErrorCode.NOT_FOUND: "A well-formed id names nothing.",
    ErrorCode.INVALID_INPUT: "An argument is malformed or out of range (ids, names, base64, "
    "thresholds, limits, duplicate externalId, both or neither image source).",
    ErrorCode.BUSY: "The server is at capacity; nothing was done. Retry after a short wait.",
    ErrorCode.GRAPHQL_VALIDATION_FAILED: "The query does not parse or does not fit the schema.",
    ErrorCode.INTERNAL: "An unexpected server error; nothing was written. Details are in the server log.",
}


class ApiError(Exception):
    def __init__(self, code: ErrorCode, message: str, extensions: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions or {}  # more detail for clients, beside `code`


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(ErrorCode.NOT_FOUND, f"no {what} with id {ident}")


def invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_INPUT, message)


def low_quality(reasons: list[str]) -> ApiError:
    return ApiError(
        ErrorCode.LOW_QUALITY,
        f"the face is below the enrolment minimums ({', '.join(reasons)}); send a better photo "
        "or pass allowLowQuality: true",
        {"reason": reasons[0], "reasons": reasons},
    )


_ML_CODES: dict[type[Exception], ErrorCode] = {
    ml_errors.BadImage: ErrorCode.BAD_IMAGE,
    ml_errors.ImageTooLarge: ErrorCode.IMAGE_TOO_LARGE,
    ml_errors.NoFace: ErrorCode.NO_FACE,
    ml_errors.TooManyFaces: ErrorCode.TOO_MANY_FACES,
    ml_errors.Overloaded: ErrorCode.BUSY,
}


def as_api_error(exc: BaseException | None) -> ApiError | None:
    """The client-facing form of a known failure; None for anything unexpected."""
    if isinstance(exc, ApiError):
        return exc
    for kind, code in _ML_CODES.items():
        if isinstance(exc, kind):
            return ApiError(code, str(exc))
    return None
