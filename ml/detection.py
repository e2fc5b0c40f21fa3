"""Face detectors behind one interface: MTCNN, YuNet and the two together (landmarks from each), and Haar."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from ml.mtcnn import Mtcnn, cuda_devices
from weights import YUNET, YUNET_INT8, BoxMapping, YunetSpec, weights_path
from weights.store import DEFAULT_DIR


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0: apart, 1: the same)."""
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    if width <= 0 or height <= 0:
        return 0.0
    common = width * height
    return common / (a.area + b.area - common)


@dataclass(frozen=True)
class Detection:
    box: Box  # in the coordinates of the image passed to detect()
    score: float | None  # None where the detector gives no confidence (Haar)
    landmarks: np.ndarray | None  # (5, 2) x, y: eyes, nose, mouth corners

    def scaled(self, factor: float, width: int, height: int) -> Detection | None:
        """The same face in an image `factor` times as large, of width x height (None if nothing is left of it)."""
        b = self.box
        box = _clip_box(b.x * factor, b.y * factor, (b.x + b.width) * factor, (b.y + b.height) * factor, width, height)
        if box is None:
            return None
        return Detection(box, self.score, None if self.landmarks is None else self.landmarks * np.float32(factor))


class Detector(Protocol):
    name: str
    gives_landmarks: bool
    max_side: int  # the longer side of the copy it looks at: larger photos need no more pixels

    @property
    def device(self) -> str:
        """Where it runs: GPU or CPU."""
        ...

    def detect(self, image: np.ndarray, min_face_size: int | None = None) -> list[Detection]:
        """Faces of at least min_face_size pixels (the detector's own minimum when None)."""
        ...


def _downscale(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """A copy whose longer side is at most max_side, and the factor back to the original."""
    height, width = image.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return image, 1.0
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), 1.0 / scale


def _clip_box(x1: float, y1: float, x2: float, y2: float, width: int, height: int) -> Box | None:
    left, top = max(0, int(round(x1))), max(0, int(round(y1)))
    right, bottom = min(width, int(round(x2))), min(height, int(round(y2)))
    if right - left < 2 or bottom - top < 2:
        return None
    return Box(left, top, right - left, bottom - top)


class MtcnnDetector:
    name = "mtcnn"
    gives_landmarks = True

    def __init__(self, max_side: int = 640, min_face_size: int = 20, weights_dir: Path = DEFAULT_DIR) -> None:
        self.max_side = max_side
        self.min_face_size = min_face_size
        self._local = threading.local()
        self.net()  # load (and checksum) the weights now, not on the first request

    def net(self) -> Mtcnn:
        """This thread's cascade (OpenCV's nets are not to be shared between threads)."""
        net = getattr(self._local, "net", None)
        if net is None:
            net = self._local.net = Mtcnn(self.min_face_size)
        return net

    @property
    def device(self) -> str:
        return self.net().device

    def detect(self, image: np.ndarray, min_face_size: int | None = None) -> list[Detection]:
        small, back = _downscale(image, self.max_side)
        # As ever here, the minimum is in the pixels of the copy the net sees.
        boxes, landmarks = self.net().detect(small, min_face_size)
        return _in_photo(boxes, landmarks, back, image.shape)


def _in_photo(boxes: np.ndarray, landmarks: np.ndarray, back: float, shape: tuple[int, ...]) -> list[Detection]:
    """The cascade's faces, found in a copy `back` times smaller than the photo, in the photo's pixels."""
    height, width = shape[:2]
    found = []
    for (x1, y1, x2, y2, score), points in zip(boxes, landmarks, strict=True):
        box = _clip_box(x1 * back, y1 * back, x2 * back, y2 * back, width, height)
        if box is not None:
            found.append(Detection(box, float(score), points * np.float32(back)))
    return found


class HaarDetector:
    """The classic Viola-Jones frontal-face cascade that ships with OpenCV 4."""

    name = "haar"
    gives_landmarks = False
    device = "CPU"

    def __init__(self, max_side: int = 640, min_face_size: int = 20, weights_dir: Path = DEFAULT_DIR) -> None:
        self.max_side = max_side
        self.min_face_size = min_face_size
        cascades: str = cv2.data.haarcascades  # type: ignore[attr-defined]  # missing from OpenCV's stubs
        self._path = cascades + "haarcascade_frontalface_default.xml"
        self._local = threading.local()
        self._cascade()

    def _cascade(self) -> cv2.CascadeClassifier:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = cv2.CascadeClassifier(self._path)
            if cascade.empty():
                raise RuntimeError(f"cannot load the Haar cascade {self._path}")
            self._local.cascade = cascade
        return cascade

    def detect(self, image: np.ndarray, min_face_size: int | None = None) -> list[Detection]:
        small, back = _downscale(image, self.max_side)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        min_side = max(1, int((min_face_size or self.min_face_size) / back))
        rects = self._cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
        height, width = image.shape[:2]
        found = []
        for x, y, w, h in rects:
            box = _clip_box(x * back, y * back, (x + w) * back, (y + h) * back, width, height)
            if box is not None:
                found.append(Detection(box, None, None))
        return found


class YunetDetector:
    """OpenCV's YuNet (cv2.FaceDetectorYN, OpenCV model zoo 2023mar): a box, five landmarks and a score a face,
    in the order MTCNN gives them (the eye on the image's left first), at a few milliseconds a photo."""

    name = "yunet"
    gives_landmarks = True
    spec: YunetSpec = YUNET

    def __init__(self, max_side: int = 640, min_face_size: int = 20, weights_dir: Path = DEFAULT_DIR) -> None:
        self.max_side = max_side
        self.min_face_size = min_face_size
        self._path = str(weights_path(self.spec.weights, weights_dir))
        self.device = "GPU" if cuda_devices() else "CPU"
        self._local = threading.local()
        self._net((max_side, max_side))

    def _net(self, size: tuple[int, int]) -> cv2.FaceDetectorYN:
        net = getattr(self._local, "net", None)  # one a thread: a net holds its input size and buffers
        if net is None:
            backend, target = (
                (cv2.dnn.DNN_BACKEND_CUDA, cv2.dnn.DNN_TARGET_CUDA)
                if self.device == "GPU"
                else (cv2.dnn.DNN_BACKEND_DEFAULT, cv2.dnn.DNN_TARGET_CPU)
            )
            net = self._local.net = cv2.FaceDetectorYN.create(
                self._path,
                "",
                size,
                self.spec.score_threshold,
                self.spec.nms_threshold,
                self.spec.top_k,
                backend,
                target,
            )
        net.setInputSize(size)
        return net

    def detect(self, image: np.ndarray, min_face_size: int | None = None) -> list[Detection]:
        small, back = _downscale(image, self.max_side)
        bgr = np.ascontiguousarray(small[:, :, ::-1])
        _, faces = self._net((small.shape[1], small.shape[0])).detect(bgr)
        height, width = image.shape[:2]
        least = min_face_size or self.min_face_size  # in the pixels of the copy it looks at, as MTCNN's
        found = []
        for face in [] if faces is None else faces:
            x, y, w, h = (float(v) for v in face[:4])
            if min(w, h) < least:
                continue
            box = _clip_box(x * back, y * back, (x + w) * back, (y + h) * back, width, height)
            if box is not None:
                points = np.asarray(face[4:14], dtype=np.float32).reshape(5, 2) * np.float32(back)
                found.append(Detection(box, float(face[14]), points))
        return found


class YunetInt8Detector(YunetDetector):
    """YuNet with int8 block-quantised weights: half the file, its own landmarks (and so its own crops)."""

    name = "yunet-int8"
    spec = YUNET_INT8


def onet_boxes(faces: list[Detection], mapping: BoxMapping) -> np.ndarray:
    """Each face's box moved to where MTCNN's R-Net would have put it: the squares O-Net was trained on."""
    boxes = np.empty((len(faces), 5), np.float32)
    for row, face in zip(boxes, faces, strict=True):
        b = face.box
        centre_x = b.x + b.width / 2 + mapping.dx * b.width
        centre_y = b.y + b.height / 2 + mapping.dy * b.width
        half = mapping.side * b.width / 2
        row[:] = (centre_x - half, centre_y - half, centre_x + half, centre_y + half, face.score or 0.0)
    return boxes


class YunetOnetDetector:
    """YuNet finds the faces and MTCNN's last net, O-Net, places each box and its five landmarks.

    The landmarks then come from the same net as MTCNN's, so the crops have MTCNN's geometry (its model ids,
    thresholds and calibration: `make bench-accuracy` measures that they hold) at about YuNet's speed, since
    O-Net costs a millisecond where MTCNN's first two stages cost twenty. O-Net was trained on the boxes R-Net
    gives, so each YuNet box is first moved onto where R-Net would put it (weights.YUNET.onet_box). A photo
    where YuNet finds nothing that O-Net takes for a face goes through the whole MTCNN cascade, so no face
    MTCNN would find is lost for YuNet's sake.
    """

    name = "yunet-onet"
    gives_landmarks = True

    def __init__(self, max_side: int = 640, min_face_size: int = 20, weights_dir: Path = DEFAULT_DIR) -> None:
        self.max_side = max_side
        self.min_face_size = min_face_size
        self._yunet = YunetDetector(max_side, min_face_size, weights_dir)
        self.cascade = MtcnnDetector(max_side, min_face_size, weights_dir)  # where YuNet finds nothing

    @property
    def device(self) -> str:
        return self.cascade.device  # both run on OpenCV's DNN module, on the GPU when it was built with CUDA

    def detect(self, image: np.ndarray, min_face_size: int | None = None) -> list[Detection]:
        small, back = _downscale(image, self.max_side)
        found = self._yunet.detect(small, min_face_size)
        if found:
            boxes, landmarks = self.cascade.net().refine(small, onet_boxes(found, YUNET.onet_box))
            if len(boxes):
                return _in_photo(boxes, landmarks, back, image.shape)
        return self.cascade.detect(image, min_face_size)


def pose_detector(detector: Detector) -> Detector:
    """The detector a liveness frame's head pose is read from. ml.liveness's pose thresholds were set on MTCNN's
    landmarks, and O-Net's from YuNet's box move a little with the box on a turned head: enough to move a
    session's frames across those thresholds (bench-liveness: BPCER 1.7 % with MTCNN's, 6.2 % with
    yunet-onet's). So yunet-onet hands liveness frames to MTCNN's whole cascade: the same crops, the same
    model id, MTCNN's poses."""
    return detector.cascade if isinstance(detector, YunetOnetDetector) else detector


DETECTORS: dict[str, type[MtcnnDetector] | type[HaarDetector] | type[YunetDetector] | type[YunetOnetDetector]] = {
    "mtcnn": MtcnnDetector,
    "haar": HaarDetector,
    "yunet": YunetDetector,
    "yunet-int8": YunetInt8Detector,
    "yunet-onet": YunetOnetDetector,
}


def make_detector(name: str, max_side: int, min_face_size: int, weights_dir: Path = DEFAULT_DIR) -> Detector:
    try:
        factory = DETECTORS[name]
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}") from None
    return factory(max_side=max_side, min_face_size=min_face_size, weights_dir=weights_dir)
