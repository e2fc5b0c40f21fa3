"""The client-facing form of a failure: an ApiError as it is, and ml/'s failures mapped onto their codes."""

from __future__ import annotations

from errors import ApiError, ErrorCode, busy
from ml import exceptions as ml_exceptions

_ML_CODES: dict[type[Exception], ErrorCode] = {
    ml_exceptions.BadImage: ErrorCode.BAD_IMAGE,
    ml_exceptions.ImageTooComplex: ErrorCode.IMAGE_TOO_COMPLEX,
    ml_exceptions.ImageTooLarge: ErrorCode.IMAGE_TOO_LARGE,
    ml_exceptions.NoFace: ErrorCode.NO_FACE,
    ml_exceptions.TooManyFaces: ErrorCode.TOO_MANY_FACES,
    ml_exceptions.Overloaded: ErrorCode.BUSY,
}


def as_api_error(exc: BaseException | None) -> ApiError | None:
    """The client-facing form of a known failure; None for anything unexpected."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ml_exceptions.TooManyFaces):
        # Every face's box, so that the caller can show them and ask which one (createFace's `face`).
        faces = [{"x": b.x, "y": b.y, "width": b.width, "height": b.height} for b in exc.boxes]
        return ApiError(ErrorCode.TOO_MANY_FACES, str(exc), {"faces": faces})
    for kind, code in _ML_CODES.items():
        if isinstance(exc, kind):
            return busy(str(exc)) if code == ErrorCode.BUSY else ApiError(code, str(exc))
    return None
