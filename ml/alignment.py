"""Cut a face out of a photo into the embedder's square input."""

from __future__ import annotations

import cv2
import numpy as np

from ml.detection import Box

# Where the five MTCNN landmarks sit in a 112x112 ArcFace-style crop; scaled to the
# embedder's input size. Used by align_by_landmarks (measured in bench/accuracy.py).
_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def crop_with_margin(image: np.ndarray, box: Box, size: int, margin: float) -> np.ndarray:
    """The box grown by `margin` (a fraction of its size, split over both sides),
    clipped to the image and resized to size x size, as FaceNet was trained."""
    height, width = image.shape[:2]
    grow_x, grow_y = box.width * margin / 2, box.height * margin / 2
    x1 = max(0, int(round(box.x - grow_x)))
    y1 = max(0, int(round(box.y - grow_y)))
    x2 = min(width, int(round(box.x + box.width + grow_x)))
    y2 = min(height, int(round(box.y + box.height + grow_y)))
    face = image[y1:y2, x1:x2]
    interpolation = cv2.INTER_AREA if face.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(face, (size, size), interpolation=interpolation)


def _robust_similarity(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    """OpenCV's least-median fit: it may leave out a landmark it finds too far off."""
    matrix, _ = cv2.estimateAffinePartial2D(landmarks.astype(np.float32), template, method=cv2.LMEDS)
    if matrix is None:
        raise ValueError("landmarks are degenerate")
    return matrix


def _least_squares_similarity(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    """The similarity (rotation, scale, shift) nearest all five landmarks in the least-squares sense, in closed
    form (Umeyama 1991): the fit ArcFace-style models were trained with (insightface's and OpenCV's alignCrop)."""
    source, target = landmarks.astype(np.float64), template.astype(np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred = source - source_mean
    variance = float((centred**2).sum() / len(source))
    if variance < 1e-9:
        raise ValueError("landmarks are degenerate")
    u, singular, vt = np.linalg.svd((target - target_mean).T @ centred / len(source))
    flip = np.diag([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    rotation = u @ flip @ vt
    scale = float(np.trace(np.diag(singular) @ flip)) / variance
    shift = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, shift[:, None]])


_FITS = {"robust": _robust_similarity, "least-squares": _least_squares_similarity}
_BORDERS = {"replicate": cv2.BORDER_REPLICATE, "zero": cv2.BORDER_CONSTANT}


def align_by_landmarks(
    image: np.ndarray, landmarks: np.ndarray, size: int, margin: float, fit: str = "robust", border: str = "replicate"
) -> np.ndarray:
    """Similarity transform of the five landmarks onto a fixed template.

    `fit` and `border` are the crop recipe's (weights/manifest.py): how the transform is fitted, and what
    fills the crop where it reaches past the photo (black, as SFace saw it in training, measured in
    bench/accuracy.py: kpop-crops' tight crops go from 86 % to 94 %). A large face is first shrunk with
    area averaging: warping it straight down to the crop size would alias, and aliasing moves the embedding.
    """
    similarity = _FITS[fit]
    template = _TEMPLATE_112 / 112.0
    # Shrink the template towards its centre so the margin around the face matches.
    template = ((template - 0.5) / (1.0 + margin) + 0.5) * size
    matrix = similarity(landmarks, template)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        height, width = image.shape[:2]
        shrunk = (max(1, round(width * scale * 1.5)), max(1, round(height * scale * 1.5)))
        factor = np.array([shrunk[0] / width, shrunk[1] / height], dtype=np.float32)
        image = cv2.resize(image, shrunk, interpolation=cv2.INTER_AREA)
        matrix = similarity(landmarks * factor, template)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=_BORDERS[border])
