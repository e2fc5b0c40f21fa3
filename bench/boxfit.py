"""The fit behind weights.YUNET.onet_box: where MTCNN's R-Net puts a face's box, given YuNet's box of it.

On each photo both run on the copy the detector sees; each YuNet face is paired with the R-Net box that
overlaps it most (intersection over union 0.4 at least), and the offsets of that box's centre and its side
are measured in YuNet box widths. The medians are the fit: they ignore the odd pair that went astray.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ml.detection import Box, MtcnnDetector, YunetDetector, iou
from weights import BoxMapping

MIN_OVERLAP = 0.4


@dataclass(frozen=True)
class BoxFit:
    mapping: BoxMapping
    spread: BoxMapping  # the standard deviation of each number over the faces
    faces: int


def _box(row: np.ndarray) -> Box:
    x1, y1, x2, y2 = (round(float(v)) for v in row[:4])
    return Box(x1, y1, x2 - x1, y2 - y1)


def fit_onet_box(images: Iterable[np.ndarray], yunet: YunetDetector, mtcnn: MtcnnDetector) -> BoxFit:
    """The medians of (dx, dy, side) over every face both find in `images` (each at most the detectors' max_side)."""
    rows = []
    for image in images:
        candidates = mtcnn.net().candidates(image)  # R-Net's squares, in float pixels
        if not len(candidates):
            continue
        for face in yunet.detect(image):
            b = face.box
            best = max(candidates, key=lambda row: iou(b, _box(row)))
            if iou(b, _box(best)) < MIN_OVERLAP:
                continue
            x1, y1, x2, _ = (float(v) for v in best[:4])
            side = x2 - x1
            centre_x, centre_y = b.x + b.width / 2, b.y + b.height / 2
            rows.append(((x1 + side / 2 - centre_x) / b.width, (y1 + side / 2 - centre_y) / b.width, side / b.width))
    values = np.asarray(rows)
    median, spread = np.median(values, axis=0), values.std(axis=0)
    return BoxFit(BoxMapping(*(round(float(v), 3) for v in median)), BoxMapping(*map(float, spread)), len(rows))
