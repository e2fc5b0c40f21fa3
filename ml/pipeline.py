"""Photo in, face embedding out: decode, detect, choose a face, crop, embed."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.alignment import CropOptions, align_by_landmarks, crop_with_margin
from ml.detection import Box, Detection, Detector
from ml.embedder import FaceNetEmbedder
from ml.errors import NoFace, TooManyFaces
from ml.image import ImageLimits, decode_image
from weights import EmbedderSpec

# A face that fills the whole frame (a tight crop from a mobile SDK) can be missed;
# the detector gets a second look with this much border (a fraction of each side).
RETRY_BORDER = 0.25


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
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
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


def detect_with_retry(detector: Detector, image: np.ndarray) -> list[Detection]:
    """Detections in the image; if none, those found with a border added, mapped back."""
    found = detector.detect(image)
    if found:
        return found
    height, width = image.shape[:2]
    dy, dx = round(height * RETRY_BORDER), round(width * RETRY_BORDER)
    padded = cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_REPLICATE)
    mapped = []
    for d in detector.detect(padded):
        x1, y1 = max(0, d.box.x - dx), max(0, d.box.y - dy)
        x2, y2 = min(width, d.box.x + d.box.width - dx), min(height, d.box.y + d.box.height - dy)
        if x2 - x1 >= 2 and y2 - y1 >= 2:
            landmarks = None if d.landmarks is None else d.landmarks - np.array([dx, dy], np.float32)
            mapped.append(Detection(Box(x1, y1, x2 - x1, y2 - y1), d.score, landmarks))
    return mapped


class FacePipeline:
    """The synchronous pipeline; ml.engine runs it off the event loop, batched."""

    def __init__(
        self,
        detector: Detector,
        embedder: FaceNetEmbedder,
        limits: ImageLimits,
        crop: CropOptions | None = None,
    ) -> None:
        self.detector = detector
        self.embedder = embedder
        self.limits = limits
        spec = embedder.spec
        self.crop = crop or CropOptions(spec.input_size, spec.align_margin, spec.box_margin)

    @property
    def spec(self) -> EmbedderSpec:
        return self.embedder.spec

    @property
    def aligned(self) -> bool:
        """Whether faces are cut out by their landmarks (else by box and margin)."""
        return self.crop.use_landmarks and self.detector.gives_landmarks

    @property
    def model_id(self) -> str:
        return self.spec.model_id(self.aligned)

    @property
    def default_threshold(self) -> float:
        return self.spec.threshold(self.aligned)

    def decode(self, data: bytes) -> np.ndarray:
        return decode_image(data, self.limits)

    def detect(self, image: np.ndarray) -> list[Detection]:
        return detect_with_retry(self.detector, image)

    def cut(self, image: np.ndarray, detection: Detection) -> LocatedFace:
        # `aligned` also names the model id and threshold: the crop must follow it.
        if self.aligned:
            crop = align_by_landmarks(image, detection.landmarks, self.crop.size, self.crop.align_margin)
        else:
            crop = crop_with_margin(image, detection.box, self.crop.size, self.crop.box_margin)
        return LocatedFace(detection, crop, self.detector.name)

    def locate(self, data: bytes, reject_multiple: bool = False) -> LocatedFace:
        """Decode, detect and crop: everything before the embedder."""
        image = self.decode(data)
        return self.cut(image, choose_face(self.detect(image), reject_multiple))

    def embed(self, faces: list[LocatedFace]) -> list[FaceEmbedding]:
        if not faces:
            return []
        vectors = self.embedder.embed(np.stack([face.crop for face in faces]))
        return [FaceEmbedding(face, vector) for face, vector in zip(faces, vectors, strict=True)]

    def run(self, data: bytes, reject_multiple: bool = False) -> FaceEmbedding:
        return self.embed([self.locate(data, reject_multiple)])[0]
