"""Active liveness: a random sequence of head-pose challenges, judged from the detector's landmarks and the embedder.

No model of its own. The five landmarks of each frame's face give its pose, measured so
that a flat picture cannot fake it: the eyes and the mouth corners are mapped onto a unit
square by the homography that takes them there, and the nose is read in that square. A
photo, however it is tilted, moved, scaled or warped in front of the camera, moves all
five points by one homography, so its nose stays where it was in the square; a real head
turning to the side or up moves the nose, which stands in front of the eyes and mouth,
across it (parallax). The nose's move in the square, against the session's first and
frontal frame, is the turn (yaw) and the nod (pitch), in degrees through the same
anthropometric model as ml.quality's yaw (the nose tip half an eye distance in front).

A session passes when, in order: every frame holds exactly one face, on one track, of
one identity (each frame within the model's threshold of the first), no two frames are
the same picture (a frozen feed), and the challenges are met one after another in the
order asked, with no other challenge's move made first.

There is no pose-labelled set here to calibrate the degrees against: they rest on the
model above, and the thresholds below on bench/liveness.py's LFW sequences and warps.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from ml.detection import Box, iou
from ml.pipeline import FaceEmbedding, FacePipeline, LocatedFace

NOSE_DEPTH = 0.5  # the nose tip in front of the eyes and mouth, in eye distances (as ml.quality)
TURN_MIN_DEG = 18.0  # TURN_LEFT / TURN_RIGHT: the turn from the first frame
NOD_MIN_DEG = 15.0  # LOOK_UP / LOOK_DOWN: the nod from the first frame
# A move counts against the order only when it is clearly another turn's (this many times its threshold):
# a person turning left also nods a little, and the landmarks are noisy; a weaker stray move is ignored.
ORDER_MIN_PROGRESS = 1.5
CLOSER_MIN_SCALE = 1.3  # COME_CLOSER: the eye distance against the first frame's
FRONTAL_MAX_DEG = 20.0  # the first frame: about frontal, so that every move is measured from the front
# Two faces' crops closer than this (mean difference of grey levels, 0-255) are one picture: a camera's own
# noise alone keeps live frames apart by more (a frozen or replayed feed repeats the same pixels).
FROZEN_MAX_DIFF = 0.5
TRACK_MIN_IOU = 0.05  # consecutive faces' boxes overlap at least this much: one face, not a jump


class Challenge(StrEnum):
    """What the person is asked to do, in their own terms (their left is the camera's right)."""

    TURN_LEFT = "TURN_LEFT"
    TURN_RIGHT = "TURN_RIGHT"
    LOOK_UP = "LOOK_UP"
    LOOK_DOWN = "LOOK_DOWN"
    COME_CLOSER = "COME_CLOSER"


# The challenges that need parallax: a session always holds one of them (a picture can come closer).
TURNS = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT, Challenge.LOOK_UP, Challenge.LOOK_DOWN)

INSTRUCTIONS = {
    Challenge.TURN_LEFT: "Turn your head to your left",
    Challenge.TURN_RIGHT: "Turn your head to your right",
    Challenge.LOOK_UP: "Look up",
    Challenge.LOOK_DOWN: "Look down",
    Challenge.COME_CLOSER: "Come closer to the camera",
}


class FailedCheck(StrEnum):
    FRAMES = "FRAMES"  # fewer frames than the challenges need
    ONE_FACE = "ONE_FACE"  # a frame with no face, or with more than one
    FRONTAL = "FRONTAL"  # the first frame is not a face seen from the front
    FROZEN = "FROZEN"  # two frames show the same picture
    TRACK = "TRACK"  # the face jumped between frames: not one continuous face
    IDENTITY = "IDENTITY"  # the face changed person during the session
    ORDER = "ORDER"  # a challenge's move was made before the one asked
    FLAT = "FLAT"  # the picture moved as a flat one does: no parallax
    CHALLENGE = "CHALLENGE"  # a challenge was not met


@dataclass(frozen=True)
class Observed:
    """One frame as the detector and the embedder saw it."""

    faces: int  # how many faces the detector found
    face: LocatedFace | None = None  # the face, when there is exactly one
    vector: np.ndarray | None = None  # its embedding (unit length)

    @property
    def box(self) -> Box | None:
        return None if self.face is None else self.face.detection.box

    @property
    def landmarks(self) -> np.ndarray | None:
        """(5, 2): eyes, nose, mouth corners, image-left first."""
        return None if self.face is None else self.face.detection.landmarks

    @property
    def crop(self) -> np.ndarray | None:
        """The embedder's crop (RGB), for telling frozen frames apart."""
        return None if self.face is None else self.face.crop


@dataclass(frozen=True)
class Pose:
    """A frame's head pose against the first frame's, from the nose in the eyes-and-mouth square."""

    yaw_deg: float  # + toward the camera's right: the person's left
    pitch_deg: float  # + up
    scale: float  # eye distance over the first frame's
    flat_yaw_deg: float  # the same turn read in the image, as a tilted photo can fake it
    flat_pitch_deg: float


@dataclass(frozen=True)
class Verdict:
    live: bool
    score: float  # the weakest challenge's move over its threshold (1: just met; 0: one not met)
    failed: FailedCheck | None
    reason: str
    frames: int  # frames judged
    met: int  # challenges met, in order, before it was decided
    best_frame: int  # the most frontal frame (the one to verify), an index into the frames
    poses: tuple[Pose | None, ...]  # each frame's, None where there was no single face


def _square(landmarks: np.ndarray) -> np.ndarray | None:
    """The homography taking the eyes and mouth corners to the unit square; None if they are degenerate."""
    points = np.asarray(landmarks, dtype=np.float32)
    corners = np.array([points[0], points[1], points[3], points[4]], dtype=np.float32)
    unit = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)
    if abs(cv2.contourArea(corners[[0, 1, 3, 2]])) < 1.0:  # the four in order round the quadrilateral
        return None
    homography = cv2.getPerspectiveTransform(corners, unit)
    return homography if np.all(np.isfinite(homography)) else None


def nose_in_square(landmarks: np.ndarray) -> tuple[float, float] | None:
    """Where the nose is in the eyes-and-mouth square (about 0.5, 0.6 from the front); None if degenerate."""
    homography = _square(landmarks)
    if homography is None:
        return None
    nose = cv2.perspectiveTransform(np.array([[landmarks[2]]], dtype=np.float32), homography)[0, 0]
    return float(nose[0]), float(nose[1])


def _flat_nose(landmarks: np.ndarray) -> tuple[float, float]:
    """The nose against the eye line and the eyes-to-mouth height, read straight off the image."""
    points = np.asarray(landmarks, dtype=np.float64)
    eyes = (points[0] + points[1]) / 2
    mouth = (points[3] + points[4]) / 2
    along = points[1] - points[0]
    down = mouth - eyes
    width, height = max(float(np.hypot(*along)), 1e-6), max(float(np.hypot(*down)), 1e-6)
    return float(np.dot(points[2] - eyes, along)) / width**2, float(np.dot(points[2] - eyes, down)) / height**2


def _eye_distance(landmarks: np.ndarray) -> float:
    return float(np.hypot(*(np.asarray(landmarks[1], np.float64) - landmarks[0])))


def _height_ratio(landmarks: np.ndarray) -> float:
    """The eyes-to-mouth distance in eye distances (about 1.1 for an adult face from the front)."""
    points = np.asarray(landmarks, dtype=np.float64)
    height = float(np.hypot(*((points[3] + points[4]) / 2 - (points[0] + points[1]) / 2)))
    return height / max(_eye_distance(points), 1e-6)


def _degrees(move: float, scale: float) -> float:
    """A move of the nose (in square units, `scale` eye distances each) as an angle, the nose NOSE_DEPTH deep."""
    return math.degrees(math.atan(move * scale / NOSE_DEPTH))


def pose(first: np.ndarray, landmarks: np.ndarray) -> Pose | None:
    """The pose of `landmarks` against the frame `first` (both (5, 2)); None if either is degenerate."""
    here, there = nose_in_square(first), nose_in_square(landmarks)
    if here is None or there is None:
        return None
    height = _height_ratio(first)
    flat_here, flat_there = _flat_nose(first), _flat_nose(landmarks)
    return Pose(
        yaw_deg=_degrees(there[0] - here[0], 1.0),
        pitch_deg=-_degrees(there[1] - here[1], height),
        scale=_eye_distance(landmarks) / max(_eye_distance(first), 1e-6),
        flat_yaw_deg=_degrees(flat_there[0] - flat_here[0], 1.0),
        flat_pitch_deg=-_degrees(flat_there[1] - flat_here[1], height),
    )


def frontal_deg(landmarks: np.ndarray) -> float:
    """How far from frontal a face is on its own (the larger of its turn and tilt, from the image), degrees."""
    along, _ = _flat_nose(landmarks)
    points = np.asarray(landmarks, dtype=np.float64)
    roll = math.degrees(math.atan2(points[1][1] - points[0][1], points[1][0] - points[0][0]))
    return max(abs(_degrees(along, 1.0)), abs(roll))


def progress(challenge: Challenge, moved: Pose, flat: bool = False) -> float:
    """How far `moved` goes toward `challenge`, over what meeting it takes (1: just met)."""
    yaw, pitch = (moved.flat_yaw_deg, moved.flat_pitch_deg) if flat else (moved.yaw_deg, moved.pitch_deg)
    if challenge is Challenge.TURN_LEFT:
        return yaw / TURN_MIN_DEG
    if challenge is Challenge.TURN_RIGHT:
        return -yaw / TURN_MIN_DEG
    if challenge is Challenge.LOOK_UP:
        return pitch / NOD_MIN_DEG
    if challenge is Challenge.LOOK_DOWN:
        return -pitch / NOD_MIN_DEG
    return (moved.scale - 1) / (CLOSER_MIN_SCALE - 1)


def strongest(moved: Pose) -> tuple[Challenge, float] | None:
    """The challenge this pose meets best, and by how much; None when it meets none."""
    best = max(((c, progress(c, moved)) for c in Challenge), key=lambda pair: pair[1])
    return best if best[1] >= 1.0 else None


def observation(faces: int, embedded: FaceEmbedding | None) -> Observed:
    """A frame as judge() takes it: its face count, and its one face's detection, crop and embedding."""
    return Observed(faces) if embedded is None else Observed(faces, embedded.face, embedded.vector)


def observe(pipeline: FacePipeline, frames: Sequence[bytes]) -> list[Observed]:
    """Every frame observed in this thread, the faces embedded in one call (the engine does it in its lanes)."""
    located = [pipeline.locate_sole(data) for data in frames]
    vectors = iter(pipeline.embed([face for _, face in located if face is not None]))
    return [observation(count, next(vectors) if face is not None else None) for count, face in located]


def _grey(crop: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)


def judge(
    challenges: Sequence[Challenge], frames: Sequence[Observed], identity_threshold: float, tracked: bool = False
) -> Verdict:
    """Whether `frames` (in the order taken) show a live person meeting `challenges` in order.

    `tracked`: the caller followed the face through every frame between these (Follower keeps
    only some), so consecutive ones here need not overlap.
    """
    poses: list[Pose | None] = [None] * len(frames)

    def failed(check: FailedCheck, reason: str, best: int = 0, met: int = 0) -> Verdict:
        return Verdict(False, 0.0, check, reason, len(frames), met, best, tuple(poses))

    if not frames:
        return failed(FailedCheck.FRAMES, "no frames")
    for index, frame in enumerate(frames):
        if frame.faces != 1 or frame.landmarks is None or frame.vector is None or frame.box is None:
            found = "no face" if frame.faces == 0 else f"{frame.faces} faces"
            return failed(FailedCheck.ONE_FACE, f"frame {index + 1} shows {found}; each must show exactly one")
    first = frames[0]
    assert first.landmarks is not None and first.vector is not None
    if frontal_deg(first.landmarks) > FRONTAL_MAX_DEG:
        return failed(FailedCheck.FRONTAL, "the first frame must show the face from the front")
    for index, frame in enumerate(frames):
        assert frame.landmarks is not None
        poses[index] = pose(first.landmarks, frame.landmarks)
        if poses[index] is None:
            return failed(FailedCheck.ONE_FACE, f"frame {index + 1}'s face is not clear enough to read its pose")

    thumbs = [_grey(frame.crop) for frame in frames if frame.crop is not None]
    for later in range(1, len(thumbs)):
        for earlier in range(later):
            if float(np.mean(np.abs(thumbs[later] - thumbs[earlier]))) < FROZEN_MAX_DIFF:
                return failed(FailedCheck.FROZEN, f"frames {earlier + 1} and {later + 1} are the same picture")
    for index in range(1, len(frames)):
        before, now = frames[index - 1].box, frames[index].box
        assert before is not None and now is not None
        if not tracked and iou(before, now) < TRACK_MIN_IOU:
            return failed(FailedCheck.TRACK, f"the face jumped between frames {index} and {index + 1}")
    vectors = [frame.vector for frame in frames]
    for index in range(1, len(frames)):
        # Within the threshold of an earlier frame (in a video, the one before): a face turned far from the
        # first still resembles the frames on its way there, and a swap resembles none of them.
        nearest = min(float(np.linalg.norm(vectors[index] - vectors[earlier])) for earlier in range(index))  # type: ignore[operator]
        if nearest > identity_threshold:
            return failed(FailedCheck.IDENTITY, f"frame {index + 1} shows another person than the frames before")

    best = min(range(len(frames)), key=lambda i: _off_front(poses[i]))
    met: list[float] = []
    since = 1  # the first frame after the last challenge met
    for index in range(1, len(frames)):
        moved = poses[index]
        assert moved is not None
        if len(met) == len(challenges):
            break
        asked = challenges[len(met)]
        if (amount := progress(asked, moved)) >= 1.0:
            met.append(amount)
            since = index + 1
            continue
        done = strongest(moved)
        if done is None or done[0] not in TURNS or done[1] < ORDER_MIN_PROGRESS:
            continue
        challenge = done[0]
        if not (met and challenge is challenges[len(met) - 1]):  # still holding the one before
            wanted = INSTRUCTIONS[asked].lower()
            reason = f"frame {index + 1} did {challenge.value} when asked to {wanted}"
            return failed(FailedCheck.ORDER, reason, best, len(met))
    if len(met) < len(challenges) and len(frames) < len(challenges) + 1:  # a frame meets one challenge at most
        reason = f"{len(frames)} frames for {len(challenges)} challenges and a first look"
        return failed(FailedCheck.FRAMES, reason, best, len(met))
    if len(met) < len(challenges):
        pending = challenges[len(met)]
        faked = any(p is not None and progress(pending, p, flat=True) >= 1.0 for p in poses[since:])
        if faked and pending in TURNS:
            return failed(FailedCheck.FLAT, f"{pending.value}: the face moved as a flat picture does", best, len(met))
        return failed(FailedCheck.CHALLENGE, f"{pending.value} was not met", best, len(met))
    score = min(met)
    reason = "every challenge met, in order, by one live face"
    return Verdict(True, score, None, reason, len(frames), len(met), best, tuple(poses))


def _off_front(moved: Pose | None) -> float:
    return math.inf if moved is None else abs(moved.yaw_deg) + abs(moved.pitch_deg)


# A camera's frames are judged as they come (Follower), but only those that moved since the last one kept:
# a head held still gives nothing new, and keeping every frame would make a still face look frozen. The
# landmarks' own jitter (a pixel or two on a face of 100) reads as 2 to 3 degrees: a step above it.
KEYFRAME_MIN_DEG = 5.0
KEYFRAME_MIN_SCALE = 0.06
_UNDECIDED = (FailedCheck.FRAMES, FailedCheck.CHALLENGE, FailedCheck.FLAT)  # more frames may still meet them


@dataclass(frozen=True)
class Step:
    """Where a followed session stands after a frame."""

    asked: Challenge | None  # what to do now; None: look at the camera from the front (no first frame yet)
    met: int  # challenges met so far
    pose: Pose | None  # this frame's, against the first; None without one face or before the first frame
    face: bool  # whether the frame showed one face
    verdict: Verdict | None  # set once the session is decided (then the stream ends)


class Follower:
    """A session judged frame by frame, for a camera streaming over WebSocket, with judge()'s rules.

    A frame with no face is passed over (a blink of the detector, a head turned far); two faces
    end the session, and so does a face that jumps. The first frame kept is the first frontal one;
    after it a frame is kept when its pose moved on from the last kept, and the kept frames are
    judged each time: a failure other than a challenge not yet met ends the session, all met
    passes it. At most `most` frames are kept, and each challenge must be met within `window_s`
    of the one before (of the first frame, for the first).
    """

    def __init__(
        self, challenges: Sequence[Challenge], identity_threshold: float, most: int, window_s: float | None = None
    ) -> None:
        self.challenges = list(challenges)
        self.identity_threshold = identity_threshold
        self.most = most
        self.window_s = window_s  # seconds to meet each challenge, from the first frame or the one met before
        self.kept: list[Observed] = []
        self._last_box: Box | None = None
        self._last_pose: Pose | None = None
        self._met = 0
        self._since = 0.0  # when the challenge asked now was asked

    def window_left(self, at: float) -> float | None:
        """Seconds left to meet the challenge asked now; None before the first frame or without a window."""
        if self.window_s is None or not self.kept:
            return None
        return max(0.0, self.window_s - (at - self._since))

    def _asked(self) -> Challenge | None:
        return self.challenges[self._met] if self.kept and self._met < len(self.challenges) else None

    def _step(self, moved: Pose | None, face: bool, verdict: Verdict | None = None) -> Step:
        return Step(self._asked(), self._met, moved, face, verdict)

    def _end(self, check: FailedCheck, reason: str) -> Step:
        verdict = Verdict(False, 0.0, check, reason, len(self.kept), self._met, 0, ())
        return self._step(None, check is not FailedCheck.ONE_FACE, verdict)

    def add(self, frame: Observed, at: float = 0.0) -> Step:
        """The frame taken at `at` (seconds, any steady clock) judged with those before."""
        if frame.faces > 1:
            return self._end(FailedCheck.ONE_FACE, f"{frame.faces} faces in view; there must be exactly one")
        asked = self._asked()
        if asked is not None and self.window_left(at) == 0.0:
            return self._end(FailedCheck.CHALLENGE, f"{asked.value} was not met within {self.window_s:g} s")
        if frame.faces == 0 or frame.landmarks is None or frame.box is None:
            return self._step(None, face=False)
        if self._last_box is not None and iou(self._last_box, frame.box) < TRACK_MIN_IOU:
            return self._end(FailedCheck.TRACK, "the face jumped between frames: not one continuous face")
        self._last_box = frame.box
        if not self.kept:
            if frontal_deg(frame.landmarks) <= FRONTAL_MAX_DEG:
                self.kept.append(frame)
                self._last_pose = pose(frame.landmarks, frame.landmarks)
                self._since = at
            return self._step(self._last_pose, face=True)
        first = self.kept[0].landmarks
        assert first is not None
        moved = pose(first, frame.landmarks)
        if moved is None:
            return self._step(moved, face=True)
        # A frame is kept when the pose moved on, or when it meets the move asked now (a head already turned
        # left and up meets LOOK_UP with a small nod more), unless it repeats the last kept picture.
        meets = asked is not None and progress(asked, moved) >= 1.0
        if not (self._moved_on(moved) or (meets and not self._repeats_last(frame))):
            return self._step(moved, face=True)
        if len(self.kept) >= self.most:
            return self._end(FailedCheck.FRAMES, f"{self.most} moves without meeting the challenges")
        self.kept.append(frame)
        self._last_pose = moved
        verdict = judge(self.challenges, self.kept, self.identity_threshold, tracked=True)
        if verdict.met > self._met:
            self._met, self._since = verdict.met, at
        decided = verdict.live or verdict.failed not in _UNDECIDED
        return self._step(moved, True, verdict if decided else None)

    def _repeats_last(self, frame: Observed) -> bool:
        last = self.kept[-1].crop
        if frame.crop is None or last is None:
            return False
        return float(np.mean(np.abs(_grey(frame.crop) - _grey(last)))) < FROZEN_MAX_DIFF

    def _moved_on(self, moved: Pose) -> bool:
        last = self._last_pose
        assert last is not None
        turned = max(abs(moved.yaw_deg - last.yaw_deg), abs(moved.pitch_deg - last.pitch_deg))
        return turned >= KEYFRAME_MIN_DEG or abs(moved.scale - last.scale) >= KEYFRAME_MIN_SCALE

    def expire(self) -> Verdict:
        """The verdict when time runs out: the kept frames judged as they are, never live."""
        if not self.kept:
            return Verdict(False, 0.0, FailedCheck.FRONTAL, "no face was seen from the front in time", 0, 0, 0, ())
        verdict = judge(self.challenges, self.kept, self.identity_threshold, tracked=True)
        if verdict.live:  # judged live after the last step: cannot happen, add() decides on every kept frame
            return verdict
        pending = self.challenges[verdict.met] if verdict.met < len(self.challenges) else None
        reason = f"time ran out: {verdict.reason}" if pending else verdict.reason
        return dataclasses.replace(verdict, reason=reason)
