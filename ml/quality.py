"""How usable a detected face is for recognition: size, sharpness, pose, confidence.

Measured from the detection (landmarks, score) and from a crop of one fixed geometry
whatever the embedder's (a smaller or black-bordered crop would change the sharpness
the minimum was calibrated for); judged against minimums the caller gives (settings.py
owns the defaults, bench/accuracy.py measures what each one costs and buys on LFW).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from ml.alignment import crop_with_margin
from ml.detection import Box, Detection

# Depth of the nose tip in front of the eyes, as a fraction of the distance between
# the eyes (an average adult face); turns the nose's sideways offset into a yaw angle.
_NOSE_DEPTH = 0.5
# The crop sharpness is measured on: the box grown by 20 %, 160 px (facenet128's input, on which
# MIN_SHARPNESS was calibrated; every model's faces are measured alike).
SHARPNESS_SIDE, SHARPNESS_MARGIN = 160, 0.2


def sharpness_crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The face as sharpness is measured on it (`box` in `image`'s pixels)."""
    return crop_with_margin(image, box, SHARPNESS_SIDE, SHARPNESS_MARGIN)


class QualityIssue(StrEnum):
    TOO_SMALL = "TOO_SMALL"  # too few pixels between the eyes
    BLURRED = "BLURRED"  # too little fine detail in the crop
    POSE = "POSE"  # turned too far away from the camera
    LOW_CONFIDENCE = "LOW_CONFIDENCE"  # the detector is unsure it is a face


@dataclass(frozen=True)
class FaceQuality:
    # Pixels between the eye centres in the photo; without landmarks (Haar), 0.4 x the box width.
    inter_eye_px: float
    sharpness: float  # variance of the Laplacian of the grey sharpness_crop
    yaw_deg: float | None  # left/right turn estimated from the landmarks; None without them
    roll_deg: float | None  # in-plane tilt of the eye line; None without landmarks
    detection_score: float | None


@dataclass(frozen=True)
class QualityMinimums:
    inter_eye_px: float
    sharpness: float
    max_abs_yaw_deg: float
    detection_score: float


def measure(detection: Detection, crop: np.ndarray) -> FaceQuality:
    """The face's quality: `detection` in whole-photo pixels, `crop` its sharpness_crop."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    points = detection.landmarks
    if points is None:
        return FaceQuality(0.4 * detection.box.width, sharpness, None, None, detection.score)
    left_eye, right_eye, nose = (np.asarray(p, dtype=np.float64) for p in points[:3])
    eye_line = right_eye - left_eye
    inter_eye = float(np.hypot(*eye_line))
    roll = math.degrees(math.atan2(eye_line[1], eye_line[0]))
    # The nose's offset from the eyes' midpoint, along the eye line, in eye distances.
    offset = float(np.dot(nose - (left_eye + right_eye) / 2, eye_line)) / max(inter_eye, 1e-6) ** 2
    yaw = math.degrees(math.atan(offset / _NOSE_DEPTH))
    return FaceQuality(inter_eye, sharpness, yaw, roll, detection.score)


def issues(quality: FaceQuality, minimums: QualityMinimums) -> list[QualityIssue]:
    """Every minimum the face falls short of, most basic first; empty when it is usable."""
    found = []
    if quality.inter_eye_px < minimums.inter_eye_px:
        found.append(QualityIssue.TOO_SMALL)
    if quality.sharpness < minimums.sharpness:
        found.append(QualityIssue.BLURRED)
    if quality.yaw_deg is not None and abs(quality.yaw_deg) > minimums.max_abs_yaw_deg:
        found.append(QualityIssue.POSE)
    if quality.detection_score is not None and quality.detection_score < minimums.detection_score:
        found.append(QualityIssue.LOW_CONFIDENCE)
    return found
