"""A fake camera made from shared photos: 640x480 frames of a face that drifts a little, as a webcam sees.

For the live-recognition tests and benchmark: JPEG frames to send over the API, and a
.y4m file for Chromium's fake video capture (--use-file-for-fake-video-capture).
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from devdata import DEEPFACE

WIDTH, HEIGHT = 640, 480
# The same person in two different photos (deepface's pairs-master.csv): one to enrol, one for the camera.
ENROLLED_PHOTO = DEEPFACE / "img1.jpg"
CAMERA_PHOTO = DEEPFACE / "img2.jpg"
STRANGER_PHOTO = DEEPFACE / "img3.jpg"  # someone else (pairs-master.csv: img3/img1 and img3/img2 differ)
DRIFT_PX = 24  # how far the face wanders left and right over a cycle
DRIFT_FRAMES = 60


def _fitted(photo: Path, height: int) -> np.ndarray:
    """The photo, BGR, scaled to `height` pixels high (a head-and-shoulders shot at webcam distance)."""
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(photo)
    scale = height / image.shape[0]
    return cv2.resize(image, (round(image.shape[1] * scale), height), interpolation=cv2.INTER_AREA)


def frames(photo: Path = CAMERA_PHOTO, count: int = DRIFT_FRAMES) -> list[np.ndarray]:
    """`count` BGR frames of WIDTH x HEIGHT: the photo on a grey background, drifting sideways."""
    picture = _fitted(photo, HEIGHT)
    picture = picture[:, : WIDTH - 2 * DRIFT_PX] if picture.shape[1] > WIDTH - 2 * DRIFT_PX else picture
    left = (WIDTH - picture.shape[1]) // 2
    out = []
    for index in range(count):
        shift = round(DRIFT_PX * math.sin(2 * math.pi * index / DRIFT_FRAMES))
        frame = np.full((HEIGHT, WIDTH, 3), 96, np.uint8)
        frame[:, left + shift : left + shift + picture.shape[1]] = picture
        out.append(frame)
    return out


def side_by_side(left: Path = CAMERA_PHOTO, right: Path = STRANGER_PHOTO) -> np.ndarray:
    """One BGR frame of WIDTH x HEIGHT with two people: each photo fitted into its half."""
    frame = np.full((HEIGHT, WIDTH, 3), 96, np.uint8)
    half = WIDTH // 2
    for offset, photo in ((0, left), (half, right)):
        picture = _fitted(photo, HEIGHT)
        if picture.shape[1] > half:  # too wide for its half: fit the width instead
            picture = cv2.resize(picture, (half, round(picture.shape[0] * half / picture.shape[1])), cv2.INTER_AREA)
        frame[: picture.shape[0], offset : offset + picture.shape[1]] = picture
    return frame


def jpegs(images: list[np.ndarray], quality: int = 80) -> list[bytes]:
    """Each frame as a JPEG, as a browser's canvas.toBlob('image/jpeg') would send it."""
    encoded = []
    for image in images:
        ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        encoded.append(buffer.tobytes())
    return encoded


def write_y4m(path: Path, images: list[np.ndarray], fps: int = 15) -> Path:
    """A YUV4MPEG2 (4:2:0) video of the frames, which Chromium's fake camera plays in a loop."""
    height, width = images[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for image in images:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path
