"""Photo in, face embedding out: decode, detect, choose a face, crop, embed."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.alignment import crop_with_margin
from ml.detection import Detection, Detector
from ml.embedder import FaceNetEmbedder
from ml.errors import NoFace, TooManyFaces
from ml.image import ImageLimits, decode_image


@dataclass(frozen=True)
class LocatedFace:
    """A face found in a photo and cut out for the embedder."""

    detection: Detection
    crop: np.ndarray  # (size, size, 3) uint8 RGB, the embedder's input
    detector: str


@dataclass(frozen=True)
class FaceEmbedding:
    face: LocatedFace
    vector: np.ndarray  # (dimension,) float32, unit length

    @property
    def crop_jpeg(self) -> bytes:
        return encode_jpeg(self.face.crop)


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, buffer = cv2.imencode(
        ".jpg",
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, quality],
    )
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buffer.tobytes()


def choose_face(detections: list[Detection], reject_multiple: bool) -> Detection:
    """The largest face; with reject_multiple, an error unless there is exactly one."""
    if not detections:
        raise NoFace("no face was found in the image")
    if reject_multiple and len(detections) > 1:
        raise TooManyFaces(f"{len(detections)} faces were found; exactly one is required")
    return max(detections, key=lambda d: d.box.area)


class FacePipeline:
    """The synchronous pipeline; ml.engine runs it off the event loop, batched."""

    def __init__(self, detector: Detector, embedder: FaceNetEmbedder, limits: ImageLimits) -> None:
        self.detector = detector
        self.embedder = embedder
        self.limits = limits

    @property
    def spec(self):
        return self.embedder.spec

    def locate(self, data: bytes, reject_multiple: bool = False) -> LocatedFace:
        """Decode, detect and crop: everything before the embedder."""
        image = decode_image(data, self.limits)
        detection = choose_face(self.detector.detect(image), reject_multiple)
        size = self.spec.input_size
        crop = crop_with_margin(image, detection.box, size, self.spec.margin)
        return LocatedFace(detection, crop, self.detector.name)

    def embed(self, faces: list[LocatedFace]) -> list[FaceEmbedding]:
        if not faces:
            return []
        vectors = self.embedder.embed(np.stack([face.crop for face in faces]))
        return [FaceEmbedding(face, vector) for face, vector in zip(faces, vectors, strict=True)]

    def run(self, data: bytes, reject_multiple: bool = False) -> FaceEmbedding:
        return self.embed([self.locate(data, reject_multiple)])[0]
