"""The detectors FACE_DETECTOR selects (MTCNN, YuNet, YuNet with O-Net, Haar), held to MTCNN's contract."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import devdata
from ml.detection import make_detector
from ml.mtcnn import cuda_devices
from ml.pipeline import FacePipeline
from settings import Settings
from tests.helpers import ANGELINA, COUPLE
from weights import EMBEDDERS

# How far a landmark may lie from MTCNN's, in face widths: YuNet places its own; YuNet with O-Net has
# MTCNN's last net place them, from a box a little off R-Net's.
LANDMARK_SLACK = {"yunet": 0.15, "yunet-int8": 0.15, "yunet-onet": 0.06}


def overlap(a, b) -> float:
    """Intersection over union of two boxes."""
    x1, y1 = max(a.x, b.x), max(a.y, b.y)
    x2, y2 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / (a.area + b.area - inter)


@pytest.fixture(scope="module")
def pipelines(pipeline) -> Callable[[str], FacePipeline]:
    """Each detector's pipeline by its FACE_DETECTOR name (MTCNN's too, whatever the default), built once."""
    settings, built = Settings(), {}

    def of(name: str) -> FacePipeline:
        if name not in built:
            detector = make_detector(name, settings.detect_max_side, settings.min_face_size)
            built[name] = FacePipeline(detector, pipeline.embedder, pipeline.limits)
        return built[name]

    return of


def test_haar_finds_the_same_face_as_mtcnn(pipelines):
    mtcnn_pipeline, haar_pipeline = pipelines("mtcnn"), pipelines("haar")
    image = mtcnn_pipeline.decode(ANGELINA[0].read_bytes())
    mtcnn_box = mtcnn_pipeline.locate(ANGELINA[0].read_bytes()).detection.box
    haar = haar_pipeline.locate(ANGELINA[0].read_bytes())
    assert haar.detector == "haar" and haar.detection.score is None and haar.detection.landmarks is None
    assert overlap(haar.detection.box, mtcnn_box) > 0.4
    side = mtcnn_pipeline.spec.input_size
    assert haar.crop.shape == (side, side, 3) and image.shape[0] > 640  # detected on a downscaled copy


@pytest.mark.parametrize("detector", ["mtcnn", "haar", "yunet", "yunet-int8", "yunet-onet"])
def test_each_detectors_pipeline_tells_people_apart(pipelines, detector):
    pipeline = pipelines(detector)
    same = [pipeline.run(photo.read_bytes()).vector for photo in (*ANGELINA, COUPLE)]  # she is in both
    other = pipeline.run(devdata.celebrity_photos("val")["elton_john"][0].read_bytes()).vector
    threshold = pipeline.default_threshold
    assert all(np.linalg.norm(same[0] - vector) <= threshold for vector in same[1:])
    assert np.linalg.norm(same[0] - other) > threshold


def test_haar_and_yunet_have_model_ids_of_their_own_and_yunet_with_onet_shares_mtcnns():
    """Another detector's landmarks or boxes are another crop geometry: their embeddings must never meet.
    YuNet with O-Net has MTCNN's own net place its landmarks, and is measured to cut MTCNN's crops."""
    for spec in EMBEDDERS.values():
        assert len({spec.model_id(name) for name in ("mtcnn", "haar", "yunet", "yunet-int8")}) == 4
        assert spec.recipe("yunet-onet") == spec.recipe("mtcnn")  # the id, the crop and the threshold


def test_unknown_detector_is_refused():
    with pytest.raises(ValueError, match="unknown detector"):
        make_detector("yolo", 640, 20)


@pytest.mark.parametrize("detector", ["yunet", "yunet-int8", "yunet-onet"])
def test_each_landmark_detector_keeps_mtcnns_contract(pipelines, detector):
    """Boxes in whole-photo pixels, five landmarks in MTCNN's order inside the box, a score, every face of a photo."""
    pipeline, mtcnn_pipeline = pipelines(detector), pipelines("mtcnn")
    for photo in (ANGELINA[0], COUPLE, devdata.DEEPFACE / "selfie-many-people.jpg"):
        ours = pipeline.detect_photo(pipeline.decode(photo.read_bytes()))
        theirs = mtcnn_pipeline.detect_photo(mtcnn_pipeline.decode(photo.read_bytes()))
        assert len(ours) >= len(theirs), photo  # every face MTCNN finds (YuNet finds a sixth in the selfie)
        for other in theirs:
            face = max(ours, key=lambda mine: overlap(mine.box, other.box))
            assert overlap(face.box, other.box) > 0.5 and 0.7 <= face.score <= 1.0
            box, points = face.box, face.landmarks
            assert points.shape == (5, 2) and points[0, 0] < points[1, 0]  # the eye on the image's left first
            slack = 0.1 * box.width  # a box clipped at the photo's edge may leave a landmark just outside it
            assert np.all((points[:, 0] >= box.x - slack) & (points[:, 0] <= box.x + box.width + slack))
            assert np.abs(points - other.landmarks).max() < LANDMARK_SLACK[detector] * max(box.width, box.height)
    assert pipeline.locate(ANGELINA[0].read_bytes()).detector == pipeline.detector.name


@pytest.mark.parametrize("detector", ["yunet", "yunet-int8", "yunet-onet"])
def test_each_landmark_detector_honours_the_minimum_face_size(pipelines, detector):
    pipeline = pipelines(detector)
    image = pipeline.decode(COUPLE.read_bytes()).whole
    assert len(pipeline.detector.detect(image)) == 2
    assert pipeline.detector.detect(image, min_face_size=10_000) == []


def test_a_face_enrolled_with_mtcnn_is_found_again_with_yunet_and_onet(pipelines):
    """A gallery enrolled under MTCNN keeps working once the server moves to YuNet with O-Net: the same photo
    lands next to itself, another photo of her within the threshold, someone else beyond it."""
    mtcnn_pipeline, yunet_onet_pipeline = pipelines("mtcnn"), pipelines("yunet-onet")
    enrolled = mtcnn_pipeline.run(ANGELINA[0].read_bytes())
    again, other_photo = (yunet_onet_pipeline.run(p.read_bytes()) for p in (ANGELINA[0], ANGELINA[1]))
    stranger = yunet_onet_pipeline.run(devdata.celebrity_photos("val")["elton_john"][0].read_bytes())
    assert yunet_onet_pipeline.model_id == mtcnn_pipeline.model_id
    threshold = yunet_onet_pipeline.default_threshold
    assert np.linalg.norm(again.vector - enrolled.vector) < 0.25 * threshold
    assert np.linalg.norm(other_photo.vector - enrolled.vector) <= threshold
    assert np.linalg.norm(stranger.vector - enrolled.vector) > threshold


def test_yunet_with_onet_asks_the_whole_cascade_where_yunet_finds_nothing(pipelines):
    """A tight crop YuNet finds no face in: MTCNN's cascade does, so no face MTCNN would find is lost."""
    yunet_pipeline, yunet_onet_pipeline = pipelines("yunet"), pipelines("yunet-onet")
    image = yunet_pipeline.decode((devdata.KPOP / "Chorong/8ZB0OvB.jpg").read_bytes()).whole
    assert yunet_pipeline.detector.detect(image) == []
    found, mtcnn = yunet_onet_pipeline.detector.detect(image), pipelines("mtcnn").detector.detect(image)
    assert len(found) == 1 and [d.box for d in found] == [d.box for d in mtcnn]
    assert np.array_equal(found[0].landmarks, mtcnn[0].landmarks)


@pytest.mark.parametrize("detector", ["yunet", "yunet-int8", "yunet-onet"])
def test_each_landmark_detector_says_it_runs_on_the_cpu_without_cuda(pipelines, detector):
    """PyPI's OpenCV has no CUDA: OpenCV's CUDA backend is asked for only where cv2 counts CUDA devices."""
    assert cuda_devices() == 0
    assert pipelines(detector).detector.device == "CPU"


def test_yunet_with_onet_reads_a_liveness_frames_pose_from_mtcnns_landmarks(pipelines):
    """ml.liveness's pose thresholds were set on MTCNN's landmarks: yunet-onet hands liveness frames (locate_sole)
    to MTCNN's whole cascade (ml.detection.pose_detector), and keeps its own for every other photo."""
    data = ANGELINA[0].read_bytes()
    count, frame = pipelines("yunet-onet").locate_sole(data)
    _, mtcnns = pipelines("mtcnn").locate_sole(data)
    assert count == 1 and frame is not None and mtcnns is not None
    assert np.array_equal(frame.detection.landmarks, mtcnns.detection.landmarks)
    assert frame.detector == "yunet-onet" and frame.crop.shape == mtcnns.crop.shape
    photo = pipelines("yunet-onet").locate(data)
    assert not np.array_equal(photo.detection.landmarks, mtcnns.detection.landmarks)
