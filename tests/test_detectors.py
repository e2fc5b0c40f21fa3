"""The Haar detector (selectable by FACE_DETECTOR) and detector selection."""

from __future__ import annotations

import numpy as np
import pytest

import devdata
from ml.detection import HaarDetector, make_detector
from ml.pipeline import FacePipeline
from tests.helpers import ANGELINA, COUPLE


def overlap(a, b) -> float:
    """Intersection over union of two boxes."""
    x1, y1 = max(a.x, b.x), max(a.y, b.y)
    x2, y2 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / (a.area + b.area - inter)


@pytest.fixture(scope="module")
def haar_pipeline(pipeline) -> FacePipeline:
    return FacePipeline(HaarDetector(max_side=640), pipeline.embedder, pipeline.limits)


def test_haar_finds_the_same_face_as_mtcnn(pipeline, haar_pipeline):
    image = pipeline.decode(ANGELINA[0].read_bytes())
    mtcnn_box = pipeline.locate(ANGELINA[0].read_bytes()).detection.box
    haar = haar_pipeline.locate(ANGELINA[0].read_bytes())
    assert haar.detector == "haar" and haar.detection.score is None and haar.detection.landmarks is None
    assert overlap(haar.detection.box, mtcnn_box) > 0.4
    side = pipeline.spec.input_size
    assert haar.crop.shape == (side, side, 3) and image.shape[0] > 640  # detected on a downscaled copy


def test_haar_pipeline_tells_people_apart(haar_pipeline):
    same = [haar_pipeline.run(photo.read_bytes()).vector for photo in (*ANGELINA, COUPLE)]  # she is in both
    other = haar_pipeline.run(devdata.celebrity_photos("val")["elton_john"][0].read_bytes()).vector
    threshold = haar_pipeline.default_threshold
    assert all(np.linalg.norm(same[0] - vector) <= threshold for vector in same[1:])
    assert np.linalg.norm(same[0] - other) > threshold


def test_each_detector_has_its_own_model_id(pipeline, haar_pipeline):
    """Another detector's boxes are another crop geometry: their embeddings must never meet."""
    assert pipeline.recipe is pipeline.spec.recipe("mtcnn") and haar_pipeline.recipe is pipeline.spec.recipe("haar")
    assert haar_pipeline.model_id != pipeline.model_id


def test_unknown_detector_is_refused():
    with pytest.raises(ValueError, match="unknown detector"):
        make_detector("yolo", 640, 20)
