"""Which face of a photo with several is its subject."""

from __future__ import annotations

import pytest

from ml.detection import Box, Detection
from ml.exceptions import NoFace, TooManyFaces
from ml.pipeline import DEFAULT_FACE_CHOICE, FaceChoice, choose_face

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
