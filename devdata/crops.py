"""Face crops as clients make them (mobile SDKs, other pipelines), made from a detection.

The accuracy report measures them; the tests hold them to it.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ml.alignment import align_by_landmarks
from ml.detection import Box, Detection


def square_crop(image: np.ndarray, box: Box, size: int, margin: float) -> np.ndarray:
    """What a mobile SDK sends: a square around the face, black where it leaves the photo."""
    side = round(max(box.width, box.height) * (1 + margin))
    x, y = round(box.x + box.width / 2 - side / 2), round(box.y + box.height / 2 - side / 2)
    padded = cv2.copyMakeBorder(image, side, side, side, side, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    crop = padded[y + side : y + 2 * side, x + side : x + 2 * side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


TIGHT_CROPS: dict[str, Callable[[np.ndarray, Detection], np.ndarray]] = {
    "square 112 px, no margin": lambda image, face: square_crop(image, face.box, 112, 0.0),
    "square 160 px, margin 44/160": lambda image, face: square_crop(image, face.box, 160, 44 / 160),
    "ArcFace-aligned 112 px": lambda image, face: align_by_landmarks(image, face.landmarks, 112, 0.0),
}
