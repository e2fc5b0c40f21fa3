"""ml.tracking: a face keeps its track while it moves, and is re-identified only when its identity ages."""

from __future__ import annotations

from ml.detection import Box, Detection, iou
from ml.tracking import FaceTracker, TrackerPolicy


def face(x: int, y: int = 50, side: int = 100) -> Detection:
    return Detection(Box(x, y, side, side), 0.99, None)


def test_iou() -> None:
    assert iou(Box(0, 0, 10, 10), Box(0, 0, 10, 10)) == 1.0
    assert iou(Box(0, 0, 10, 10), Box(20, 20, 10, 10)) == 0.0
    assert abs(iou(Box(0, 0, 10, 10), Box(5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_a_moving_face_keeps_its_track_and_a_new_face_gets_another() -> None:
    tracker: FaceTracker[str] = FaceTracker()
    first = tracker.update([face(100)], now=0.0)[0].track
    moved = tracker.update([face(110)], now=0.1)[0].track
    assert moved is first
    both = tracker.update([face(120), face(400)], now=0.2)
    assert both[0].track is first and both[1].track.id != first.id


def test_each_detection_takes_the_track_it_overlaps_most() -> None:
    tracker: FaceTracker[str] = FaceTracker()
    left, right = (s.track for s in tracker.update([face(100), face(180)], now=0.0))
    # Both moved right by 30 px: each still overlaps its own box most.
    again = tracker.update([face(130), face(210)], now=0.1)
    assert [s.track.id for s in again] == [left.id, right.id]


def test_identity_is_reused_until_it_ages_and_unknown_faces_are_retried_sooner() -> None:
    policy = TrackerPolicy(known_refresh_s=1.0, unknown_refresh_s=0.25)
    tracker: FaceTracker[str] = FaceTracker(policy)
    known = tracker.update([face(100)], now=0.0)[0].track
    assert known.due(0.0, policy)
    tracker.identified(known, "Angelina", known=True, now=0.0)
    assert not known.due(0.9, policy) and known.due(1.0, policy)
    stranger = tracker.update([face(100), face(400)], now=0.1)[1].track
    tracker.identified(stranger, "nobody", known=False, now=0.1)
    assert not stranger.due(0.3, policy) and stranger.due(0.4, policy)


def test_a_face_out_of_sight_too_long_comes_back_as_a_new_track() -> None:
    tracker: FaceTracker[str] = FaceTracker(TrackerPolicy(forget_after_s=1.0))
    before = tracker.update([face(100)], now=0.0)[0].track
    tracker.update([], now=0.5)
    assert tracker.update([face(100)], now=0.9)[0].track is before
    assert tracker.update([face(100)], now=2.5)[0].track is not before
