"""Photo in, face embedding out: decode, detect, choose a face, crop, embed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from ml.alignment import align_by_landmarks, crop_with_margin
from ml.detection import Box, Detection, Detector, iou, pose_detector
from ml.embedder import Embedder
from ml.exceptions import NoFace, TooManyFaces
from ml.image import ImageLimits, Photo, decode_image, decode_photo
from ml.quality import FaceQuality, measure, sharpness_crop
from weights import CropRecipe, EmbedderSpec

# A face that fills the whole frame (a tight crop from a mobile SDK) can be missed;
# the detector gets a second look with this much border (a fraction of each side).
RETRY_BORDER = 0.25


@dataclass(frozen=True)
class LocatedFace:
    """A face found in a photo and cut out for the embedder."""

    detection: Detection
    crop: np.ndarray  # (size, size, 3) uint8 RGB, the embedder's input
    detector: str
    quality: FaceQuality


@dataclass(frozen=True)
class Frame:
    """A decoded video frame and the faces found in it, not yet cut out."""

    image: np.ndarray  # (height, width, 3) uint8 RGB
    detections: list[Detection]


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


class FaceChoice(StrEnum):
    """Which face of a photo with several is the subject (bench/accuracy.py compares them on LFW)."""

    LARGEST = "largest"
    CENTRAL = "central"  # the face whose centre is nearest the photo's centre
    # The largest once a penalty for distance from the centre is taken off
    # (area - 2 x squared offset, in pixels): davidsandberg/facenet's rule.
    PROMINENT = "prominent"


# Measured on LFW's 6,000 pairs (bench/results/accuracy.md); the one owner of this choice.
DEFAULT_FACE_CHOICE = FaceChoice.PROMINENT


def _offset2(detection: Detection, shape: tuple[int, ...]) -> float:
    box = detection.box
    return (box.x + box.width / 2 - shape[1] / 2) ** 2 + (box.y + box.height / 2 - shape[0] / 2) ** 2


# A face asked for by its box (`near`) is the detection overlapping it most, if it overlaps it at
# least this much (intersection over union): the same photo detected again gives the same boxes,
# and a box drawn by hand around a face still overlaps it by more than a third.
PICK_MIN_IOU = 0.35


def choose_face(
    detections: list[Detection],
    reject_multiple: bool,
    shape: tuple[int, ...],
    rule: FaceChoice = DEFAULT_FACE_CHOICE,
    near: Box | None = None,
) -> Detection:
    """The subject among the faces of a photo of `shape`.

    With `near`, the face at that box; else with reject_multiple, an error unless there is one face
    (it names every face's box, in reading order, so that the caller can ask which); else `rule`'s.
    """
    if not detections:
        raise NoFace("no face was found in the image")
    if near is not None:
        best = max(detections, key=lambda d: iou(d.box, near))
        if iou(best.box, near) < PICK_MIN_IOU:
            raise NoFace(f"no face was found at the box given ({len(detections)} elsewhere in the photo)")
        return best
    if reject_multiple and len(detections) > 1:
        faces = [d.box for d in largest_left_to_right(detections, len(detections))]
        raise TooManyFaces(f"{len(detections)} faces were found; exactly one is required", faces)
    if rule is FaceChoice.CENTRAL:
        return min(detections, key=lambda d: _offset2(d, shape))
    if rule is FaceChoice.PROMINENT:
        return max(detections, key=lambda d: d.box.area - 2.0 * _offset2(d, shape))
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


def detect_photo(detector: Detector, photo: Photo) -> list[Detection]:
    """Detections in the photo's (maybe reduced) pixels, with detect_with_retry, in the whole photo's pixels."""
    found = detect_with_retry(detector, photo.pixels)
    if photo.reduction == 1.0:
        return found
    height, width = photo.shape[:2]
    return [d for d in (d.scaled(photo.reduction, width, height) for d in found) if d is not None]


def largest_left_to_right(detections: list[Detection], most: int) -> list[Detection]:
    """The `most` largest faces, in reading order (left to right, then top to bottom)."""
    largest = sorted(detections, key=lambda d: d.box.area, reverse=True)[:most]
    return sorted(largest, key=lambda d: (d.box.x, d.box.y))


class FacePipeline:
    """The synchronous pipeline; ml.engine runs it off the event loop, batched."""

    def __init__(
        self,
        detector: Detector,
        embedder: Embedder,
        limits: ImageLimits,
        recipe: CropRecipe | None = None,
        face_choice: FaceChoice = DEFAULT_FACE_CHOICE,
    ) -> None:
        """`recipe` overrides the manifest's crop for this detector (benchmarks compare them)."""
        self.detector = detector
        self.embedder = embedder
        self.limits = limits
        self.recipe = recipe or embedder.spec.recipe(detector.name)
        self.face_choice = face_choice
        if self.recipe.landmarks and not detector.gives_landmarks:
            raise ValueError(f"the {detector.name} detector gives no landmarks to align by")

    @property
    def spec(self) -> EmbedderSpec:
        return self.embedder.spec

    @property
    def model_id(self) -> str:
        """Stored with every embedding: the model and the crop geometry it saw."""
        return self.spec.model_id(self.detector.name, self.recipe)

    @property
    def default_threshold(self) -> float:
        return self.recipe.threshold

    def decode(self, data: bytes) -> Photo:
        """The photo, a large JPEG decoded reduced to what the detector needs."""
        return decode_photo(data, self.limits, self.detector.max_side)

    def detect(self, image: np.ndarray) -> list[Detection]:
        return detect_with_retry(self.detector, image)

    def detect_photo(self, photo: Photo) -> list[Detection]:
        return detect_photo(self.detector, photo)

    def cut(self, image: np.ndarray, detection: Detection, reduction: float = 1.0) -> LocatedFace:
        """The face `detection` (in whole-photo pixels) cut from `image`, the photo reduced `reduction` times."""
        seen: Detection | None = detection
        if reduction != 1.0:
            seen = detection.scaled(1 / reduction, image.shape[1], image.shape[0])
        assert seen is not None, "a face the reduced pixels hold at the embedder's size"
        # The recipe also names the model id and threshold: the crop must follow it.
        size = self.spec.input_size
        if self.recipe.landmarks:
            assert seen.landmarks is not None
            recipe = self.recipe
            crop = align_by_landmarks(image, seen.landmarks, size, recipe.margin, recipe.fit, recipe.border)
        else:
            crop = crop_with_margin(image, seen.box, size, self.recipe.margin)
        # Quality in whole-photo pixels (inter-eye distance), as the minimums are.
        quality = measure(detection, sharpness_crop(image, seen.box))
        return LocatedFace(detection, crop, self.detector.name, quality)

    def cut_photo(self, photo: Photo, detection: Detection) -> LocatedFace:
        """Cut from the reduced pixels when they hold the face at the embedder's size or more, else from the whole."""
        side = min(detection.box.width, detection.box.height) * (1 + self.recipe.margin) / photo.reduction
        if photo.reduction == 1.0 or side < self.spec.input_size:
            return self.cut(photo.whole, detection)
        return self.cut(photo.pixels, detection, photo.reduction)

    def locate(self, data: bytes, reject_multiple: bool = False, near: Box | None = None) -> LocatedFace:
        """Decode, detect and crop: everything before the embedder (`near`: the face at that box)."""
        photo = self.decode(data)
        chosen = choose_face(self.detect_photo(photo), reject_multiple, photo.shape, self.face_choice, near)
        return self.cut_photo(photo, chosen)

    def locate_sole(self, data: bytes) -> tuple[int, LocatedFace | None]:
        """How many faces the photo holds, and the face cut out when it holds exactly one (a liveness frame,
        whose landmarks come from the detector poses are read from: ml.detection.pose_detector)."""
        photo = self.decode(data)
        detections = detect_photo(pose_detector(self.detector), photo)
        return len(detections), self.cut_photo(photo, detections[0]) if len(detections) == 1 else None

    def locate_all(self, data: bytes, most: int) -> list[LocatedFace]:
        """Decode, detect and crop every face (the `most` largest), left to right."""
        photo = self.decode(data)
        return [self.cut_photo(photo, d) for d in largest_left_to_right(self.detect_photo(photo), most)]

    def detect_frame(self, data: bytes, min_face_size: int, most: int) -> Frame:
        """Decode a video frame and find its faces (the `most` largest, left to right), without cutting.

        No second look with a border: a frame with no face in it is the common case.
        """
        image = decode_image(data, self.limits)
        return Frame(image, largest_left_to_right(self.detector.detect(image, min_face_size), most))

    def embed(self, faces: list[LocatedFace]) -> list[FaceEmbedding]:
        if not faces:
            return []
        vectors = self.embedder.embed(np.stack([face.crop for face in faces]))
        return [FaceEmbedding(face, vector) for face, vector in zip(faces, vectors, strict=True)]

    def run(self, data: bytes, reject_multiple: bool = False) -> FaceEmbedding:
        return self.embed([self.locate(data, reject_multiple)])[0]
