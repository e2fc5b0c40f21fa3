"""Which face of a photo with several is its subject."""

from __future__ import annotations

import pytest

from ml.detection import Box, Detection, iou
from ml.exceptions import NoFace, TooManyFaces
from ml.pipeline import DEFAULT_FACE_CHOICE, PICK_MIN_IOU, FaceChoice, choose_face

SHAPE = (400, 400, 3)
CENTRE_SMALL = Detection(Box(170, 170, 60, 60), 0.99, None)  # at the centre
EDGE_LARGE = Detection(Box(320, 150, 80, 80), 0.99, None)  # larger, cut by the right edge
FAR_HUGE = Detection(Box(0, 0, 300, 300), 0.99, None)  # far larger, off-centre


def test_each_rule():
    faces = [CENTRE_SMALL, EDGE_LARGE]
    assert choose_face(faces, False, SHAPE, FaceChoice.LARGEST) is EDGE_LARGE
    assert choose_face(faces, False, SHAPE, FaceChoice.CENTRAL) is CENTRE_SMALL
    # A slightly larger face at the edge loses to the central one ...
    assert choose_face(faces, False, SHAPE, FaceChoice.PROMINENT) is CENTRE_SMALL
    # ... a far larger one wins although it is off-centre.
    assert choose_face([CENTRE_SMALL, FAR_HUGE], False, SHAPE, FaceChoice.PROMINENT) is FAR_HUGE


def test_default_is_the_rule_lfw_chose():
    assert DEFAULT_FACE_CHOICE is FaceChoice.PROMINENT


def test_none_or_several_when_one_is_required():
    with pytest.raises(NoFace):
        choose_face([], False, SHAPE)
    with pytest.raises(TooManyFaces):
        choose_face([CENTRE_SMALL, EDGE_LARGE], True, SHAPE)
    assert choose_face([EDGE_LARGE], True, SHAPE) is EDGE_LARGE


def test_a_face_asked_for_by_its_box():
    faces = [CENTRE_SMALL, EDGE_LARGE]
    assert choose_face(faces, True, SHAPE, near=Box(170, 170, 60, 60)) is CENTRE_SMALL  # rejectMultiple moot
    assert choose_face(faces, False, SHAPE, near=Box(310, 140, 90, 90)) is EDGE_LARGE  # drawn loosely
    with pytest.raises(NoFace, match="at the box given"):
        choose_face(faces, False, SHAPE, near=Box(0, 300, 50, 50))
    assert iou(Box(0, 0, 10, 10), Box(0, 0, 10, 10)) == 1.0 and iou(Box(0, 0, 10, 10), Box(20, 0, 5, 5)) == 0
    assert iou(Box(0, 0, 10, 10), Box(5, 0, 10, 10)) == 50 / 150
    assert iou(Box(320, 150, 80, 80), Box(310, 140, 90, 90)) > PICK_MIN_IOU


def test_several_faces_name_their_boxes_left_to_right():
    with pytest.raises(TooManyFaces) as refused:
        choose_face([EDGE_LARGE, CENTRE_SMALL], True, SHAPE)
    assert refused.value.boxes == (CENTRE_SMALL.box, EDGE_LARGE.box)
