"""What can go wrong with a photo, as exceptions the callers map to their own codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml.detection import Box


class FaceError(Exception):
    """Base class: the input cannot give a usable face. The message is safe to show."""


class BadImage(FaceError):
    """Not an image, an unsupported format, truncated or empty."""


class ImageTooLarge(FaceError):
    """Over the byte or pixel limit (decompression bombs included)."""


class ImageTooComplex(FaceError):
    """Far more work to decode than its size suggests (a progressive JPEG of thousands of scans)."""


class NoFace(FaceError):
    """No face was found in the image."""


class TooManyFaces(FaceError):
    """Several faces were found where exactly one was required."""

    def __init__(self, message: str, boxes: Sequence[Box] = ()) -> None:
        super().__init__(message)
        self.boxes = tuple(boxes)  # every face found, in reading order: the caller may pick one


class Overloaded(Exception):
    """Too much work is already waiting for the models; try again later."""
