"""The error vocabulary: every code a client can meet, what it means, and how an HTTP error answer carries it.

Every error a client sees carries `extensions.code`, one of ErrorCode; the message
is written for the client and never holds a stack trace or an internal path. A leaf,
as Starlette keeps its exceptions.py: it imports nothing of ours, so the edge, auth/
and the resolvers all speak it without reaching into one another
(resolvers/failures.py maps ml/'s failures onto it).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_IMAGE = "BAD_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    IMAGE_TOO_COMPLEX = "IMAGE_TOO_COMPLEX"
    NO_FACE = "NO_FACE"
    TOO_MANY_FACES = "TOO_MANY_FACES"
    LOW_QUALITY = "LOW_QUALITY"
    MATCHES_OTHER_PERSON = "MATCHES_OTHER_PERSON"
    SAME_IMAGE_ENROLLED = "SAME_IMAGE_ENROLLED"
    LIMIT_REACHED = "LIMIT_REACHED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    BUSY = "BUSY"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    BAD_REQUEST = "BAD_REQUEST"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL = "INTERNAL"


ERROR_DESCRIPTIONS = {
    ErrorCode.BAD_IMAGE: "Not an image, an unsupported format, truncated or empty.",
    ErrorCode.IMAGE_TOO_LARGE: "Over the byte limit or the pixel limit, or more pixels per byte than a photo "
    "compresses to (decompression bombs).",
    ErrorCode.IMAGE_TOO_COMPLEX: "The image would take far more work to decode than a photo of its size: a "
    "progressive JPEG of more than 100 scans (a decoder bomb). Send it as a baseline JPEG or a PNG.",
    ErrorCode.NO_FACE: "No face was found in the image.",
    ErrorCode.TOO_MANY_FACES: "Several faces were found and rejectMultiple asked for exactly one; "
    "`extensions.faces` holds every face's box (x, y, width, height in the photo's pixels, left to right): "
    "send one of them as createFace's `face` to enrol that face.",
    ErrorCode.LOW_QUALITY: "The face is below an enrolment minimum; `extensions.reason` names the first "
    "(TOO_SMALL, BLURRED, POSE, LOW_CONFIDENCE) and `extensions.reasons` all of them. Send a better photo, or "
    "pass allowLowQuality: true to enrol it anyway.",
    ErrorCode.MATCHES_OTHER_PERSON: "createFace with rejectIfMatchesOther: the face matches another person at the "
    "shipped threshold (`extensions.personId`, `faceId`, `distance`); nothing was enrolled.",
    ErrorCode.SAME_IMAGE_ENROLLED: "createFace with rejectIfSameImage: these exact bytes are already a face of the "
    "collection (`extensions.personId`, `faceId`); nothing was enrolled.",
    ErrorCode.LIMIT_REACHED: "The collection is full: it holds its `maxPersons` persons or `maxFaces` faces "
    "(`extensions.limit` names which, `extensions.max` the bound), or the server holds its most collections; "
    "nothing was written. Delete some, or raise the collection's limit with updateCollection.",
    ErrorCode.NOT_FOUND: "A well-formed id names nothing, or nothing this API key may see (a key bound to "
    "collections meets another collection's persons, faces and the collection itself as NOT_FOUND).",
    ErrorCode.INVALID_INPUT: "An argument is malformed or out of range (ids, names, base64, "
    "thresholds, limits, duplicate externalId, a person's face limit).",
    ErrorCode.BUSY: "The server is at capacity (or starting); nothing was done. Retry after "
    "`extensions.retryAfter` seconds.",
    ErrorCode.UNAUTHENTICATED: "No API key was sent (HTTP 200, on each field that needs one), or the key sent "
    "is unknown or revoked (HTTP 401, with `WWW-Authenticate: Bearer`), or a request without a key is larger "
    "than such a request may be (HTTP 401). Send `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
    ErrorCode.FORBIDDEN: "The API key lacks the scope this field needs; `extensions.scope` names it.",
    ErrorCode.RATE_LIMITED: "This key made too many verification or enrolment calls; nothing was done. "
    "Retry after `extensions.retryAfter` seconds (also the Retry-After header).",
    ErrorCode.QUERY_TOO_COMPLEX: "The operation would cost more than the server allows (more than one photo, "
    "lists multiplied through nesting, too many aliases, too deep, introspection of the schema many times "
    "over), its variables are larger than the server takes (a list of over 1,024 items, over 60,000 values), "
    "or its response would be too large; refused before any work. Ask for fewer items or split the operation.",
    ErrorCode.BAD_REQUEST: "The HTTP request is malformed: a body that is not a JSON object, a bad multipart "
    "`map`, an unsupported content type, batching, a disallowed method, or a cross-site form post without "
    "an API key or `GraphQL-Require-Preflight` header (HTTP 4xx).",
    ErrorCode.REQUEST_TIMEOUT: "The request body did not arrive within the body timeout (HTTP 408), or the "
    "answer took longer than the request timeout (HTTP 504).",
    ErrorCode.GRAPHQL_VALIDATION_FAILED: "The query does not parse or does not fit the schema, or a variable "
    "is missing, null or of the wrong type.",
    ErrorCode.INTERNAL: "An unexpected server error; nothing was written. Details are in the server log.",
}


# The code of an error answered at the HTTP level, before GraphQL runs.
HTTP_STATUS_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.BAD_REQUEST,
    408: ErrorCode.REQUEST_TIMEOUT,
    413: ErrorCode.IMAGE_TOO_LARGE,
    415: ErrorCode.BAD_REQUEST,
    503: ErrorCode.BUSY,
    504: ErrorCode.REQUEST_TIMEOUT,
}


BUSY_RETRY_AFTER_S = 1  # what a BUSY answer suggests: the queue drains in about a batch's time
BEARER_CHALLENGE = 'Bearer realm="faceid"'  # RFC 6750: how to authenticate, on every 401


def http_error_body(status: int, message: str, code: ErrorCode | None = None) -> dict[str, object]:
    """The GraphQL-shaped body of an error answered before GraphQL runs (code: by status if not given)."""
    if code is None:
        code = HTTP_STATUS_CODES.get(status, ErrorCode.BAD_REQUEST if status < 500 else ErrorCode.INTERNAL)
    extensions: dict[str, object] = {"code": code.value}
    if code == ErrorCode.BUSY:
        extensions["retryAfter"] = BUSY_RETRY_AFTER_S
    return {"data": None, "errors": [{"message": message, "extensions": extensions}]}


def error_headers(status: int, headers: dict[str, str] | None = None) -> dict[str, str]:
    """The headers an HTTP error answer carries besides its body: the challenge of a 401, a 503's Retry-After."""
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
    elif status == 503:
        headers.setdefault("Retry-After", str(BUSY_RETRY_AFTER_S))
    return headers


def busy(message: str) -> ApiError:
    return ApiError(ErrorCode.BUSY, message, {"retryAfter": BUSY_RETRY_AFTER_S})


class ApiError(Exception):
    def __init__(self, code: ErrorCode, message: str, extensions: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions or {}  # more detail for clients, beside `code`


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(ErrorCode.NOT_FOUND, f"no {what} with id {ident}")


def limit_reached(message: str, limit: str, maximum: int) -> ApiError:
    return ApiError(ErrorCode.LIMIT_REACHED, message, {"limit": limit, "max": maximum})


def invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_INPUT, message)


def low_quality(reasons: list[str]) -> ApiError:
    return ApiError(
        ErrorCode.LOW_QUALITY,
        f"the face is below the enrolment minimums ({', '.join(reasons)}); send a better photo "
        "or pass allowLowQuality: true",
        {"reason": reasons[0], "reasons": reasons},
    )
