"""The client-facing form of a failure: an ApiError as it is, and ml/'s failures mapped onto their codes."""

from __future__ import annotations

from errors import ApiError, ErrorCode, busy
from ml import errors as ml_errors

_ML_CODES: dict[type[Exception], ErrorCode] = {
    ml_errors.BadImage: ErrorCode.BAD_IMAGE,
    ml_errors.ImageTooComplex: ErrorCode.IMAGE_TOO_COMPLEX,
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
            return busy(str(exc)) if code == ErrorCode.BUSY else ApiError(code, str(exc))
    return None
