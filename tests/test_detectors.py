"""The Haar and YuNet detectors (selectable by FACE_DETECTOR) and detector selection."""

from __future__ import annotations

import numpy as np
import pytest

import devdata
from ml.detection import HaarDetector, YunetDetector, make_detector
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


@pytest.mark.parametrize("detector", ["haar", "yunet"])
def test_each_detectors_pipeline_tells_people_apart(request, detector):
    pipeline = request.getfixturevalue(f"{detector}_pipeline")
    same = [pipeline.run(photo.read_bytes()).vector for photo in (*ANGELINA, COUPLE)]  # she is in both
    other = pipeline.run(devdata.celebrity_photos("val")["elton_john"][0].read_bytes()).vector
    threshold = pipeline.default_threshold
    assert all(np.linalg.norm(same[0] - vector) <= threshold for vector in same[1:])
    assert np.linalg.norm(same[0] - other) > threshold


def test_each_detector_has_its_own_model_id(pipeline, haar_pipeline):
    """Another detector's boxes are another crop geometry: their embeddings must never meet."""
    assert pipeline.recipe is pipeline.spec.recipe("mtcnn") and haar_pipeline.recipe is pipeline.spec.recipe("haar")
    assert haar_pipeline.model_id != pipeline.model_id


def test_unknown_detector_is_refused():
    with pytest.raises(ValueError, match="unknown detector"):
        make_detector("yolo", 640, 20)


@pytest.fixture(scope="module")
def yunet_pipeline(pipeline) -> FacePipeline:
    return FacePipeline(YunetDetector(max_side=640), pipeline.embedder, pipeline.limits)


def test_yunet_keeps_mtcnns_contract(pipeline, yunet_pipeline):
    """Boxes in whole-photo pixels, five landmarks in MTCNN's order inside the box, a score, every face of a photo."""
    for photo in (ANGELINA[0], COUPLE, devdata.DEEPFACE / "selfie-many-people.jpg"):
        ours = yunet_pipeline.detect_photo(yunet_pipeline.decode(photo.read_bytes()))
        theirs = pipeline.detect_photo(pipeline.decode(photo.read_bytes()))
        assert len(ours) >= len(theirs), photo  # every face MTCNN finds (YuNet finds a sixth in the selfie)
        for other in theirs:
            face = max(ours, key=lambda mine: overlap(mine.box, other.box))
            assert overlap(face.box, other.box) > 0.5 and 0.7 <= face.score <= 1.0
            box, points, nearest = face.box, face.landmarks, other
            assert points.shape == (5, 2) and points[0, 0] < points[1, 0]  # the eye on the image's left first
            slack = 0.1 * box.width  # a box clipped at the photo's edge may leave a landmark just outside it
            assert np.all((points[:, 0] >= box.x - slack) & (points[:, 0] <= box.x + box.width + slack))
            assert np.abs(points - nearest.landmarks).max() < 0.15 * max(box.width, box.height)
    crop = yunet_pipeline.locate(ANGELINA[0].read_bytes())
    assert crop.detector == "yunet" and yunet_pipeline.model_id != pipeline.model_id


def test_yunet_honours_the_minimum_face_size(yunet_pipeline):
    image = yunet_pipeline.decode(COUPLE.read_bytes()).whole
    assert len(yunet_pipeline.detector.detect(image)) == 2
    assert yunet_pipeline.detector.detect(image, min_face_size=10_000) == []
