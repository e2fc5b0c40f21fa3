"""Liveness sessions made from real LFW photos, bona fide and attacks (bench/liveness.py, tests/test_liveness.py).

There is no presentation-attack data set here, so the sessions are built from photos:

- bona fide: a person's most frontal photo first, then for each challenge another photo
  of theirs whose measured pose meets it (COME_CLOSER: a frontal-ish photo of theirs
  zoomed 1.4 times). Real sessions have many frames between; these have none.
- still: the first photo again and again, as a print or a screen held still: exact repeats
  (a frozen feed) and repeats with a camera's noise and a pixel or two of shake.
- warped: the first photo as a print tilted, turned, moved and scaled in front of the
  camera, each frame the warp that best fakes its challenge (a turn about the vertical or
  horizontal axis up to 35 degrees, in-plane rotation, shift, zoom).
- order: a bona fide session's frames judged against another order of its challenges.
- switch: a bona fide session whose frames after the first challenge are another person's,
  meeting the same challenges.
- two faces: a bona fide session with one frame showing a second person beside the first.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from devdata import LFW
from ml import liveness
from ml.liveness import Challenge, Observed
from ml.pipeline import encode_jpeg

SEED = 20261202
MIN_PHOTOS = 8  # LFW persons with this many photos or more (70 here; only 23 have 10 or more)
ZOOM = 1.4
TILT_DEG = 35.0


@dataclass(frozen=True)
class Session:
    kind: str  # "bona fide" or the attack's name
    person: str
    challenges: tuple[Challenge, ...]
    frames: tuple[bytes, ...]  # JPEGs, in the order taken


@dataclass(frozen=True)
class Person:
    name: str
    photos: tuple[bytes, ...]
    observed: tuple[Observed, ...]
    first: int  # the most frontal photo


def lfw_persons(count: int, seed: int = SEED) -> list[Path]:
    """`count` LFW persons of MIN_PHOTOS or more photos, drawn with `seed`."""
    folders = sorted(p for p in (LFW / "images").iterdir() if p.is_dir() and len(list(p.glob("*.jpg"))) >= MIN_PHOTOS)
    return sorted(random.Random(seed).sample(folders, min(count, len(folders))))


def observed_person(folder: Path, observe: Callable[[list[bytes]], list[Observed]]) -> Person | None:
    photos = [path.read_bytes() for path in sorted(folder.glob("*.jpg"))]
    seen = observe(photos)
    usable = [i for i, o in enumerate(seen) if o.faces == 1 and o.landmarks is not None]
    if not usable:
        return None
    first = min(usable, key=lambda i: liveness.frontal_deg(seen[i].landmarks))  # type: ignore[arg-type]
    return Person(folder.name, tuple(photos), tuple(seen), first)


def random_challenges(rng: random.Random, count: int) -> tuple[Challenge, ...]:
    """As the server draws them: distinct, at least one needing parallax."""
    while True:
        drawn = tuple(rng.sample(list(Challenge), count))
        if any(c in liveness.TURNS for c in drawn):
            return drawn


def _meets(person: Person, index: int) -> Challenge | None:
    first, other = person.observed[person.first], person.observed[index]
    if other.faces != 1 or other.landmarks is None or first.landmarks is None:
        return None
    moved = liveness.pose(first.landmarks, other.landmarks)
    done = None if moved is None else liveness.strongest(moved)
    return done[0] if done else None


def zoomed(data: bytes, factor: float) -> bytes:
    image = _decoded(data)
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 0, factor)
    return _jpeg(cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE))


def _decoded(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "an LFW JPEG"
    return image


def _jpeg(bgr: np.ndarray) -> bytes:
    return encode_jpeg(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 92)


def bona_fide_frames(person: Person, challenges: tuple[Challenge, ...], rng: random.Random) -> list[bytes] | None:
    """The person's first photo, then one photo meeting each challenge; None if they have none for one."""
    frames, used = [person.photos[person.first]], {person.first}
    for challenge in challenges:
        if challenge is Challenge.COME_CLOSER:
            near = [
                i
                for i in range(len(person.photos))
                if i not in used and person.observed[i].faces == 1 and _meets(person, i) is None
            ]
            if not near:
                return None
            pick = rng.choice(near)
            first, other = person.observed[person.first].landmarks, person.observed[pick].landmarks
            assert first is not None and other is not None
            sizes = float(np.hypot(*(first[1] - first[0]))) / max(float(np.hypot(*(other[1] - other[0]))), 1.0)
            frames.append(zoomed(person.photos[pick], ZOOM * sizes))
        else:
            fitting = [i for i in range(len(person.photos)) if i not in used and _meets(person, i) is challenge]
            if not fitting:
                return None
            pick = rng.choice(fitting)
            frames.append(person.photos[pick])
        used.add(pick)
    return frames


def fitting(
    pool: list[Person], challenges: tuple[Challenge, ...], but: str = ""
) -> Iterator[tuple[Person, list[bytes]]]:
    """Each person of `pool` (other than `but`) with bona fide frames for `challenges`, and those frames."""
    for person in pool:
        if person.name != but and (frames := bona_fide_frames(person, challenges, random.Random(SEED))) is not None:
            yield person, frames


def most_covered(pool: list[Person], but: str = "") -> Person:
    """The person of `pool` whose photos meet the most single challenges (40 % of the server's draws, in LFW)."""
    return max((p for p in pool if p.name != but), key=lambda p: sum(bool(list(fitting([p], (c,)))) for c in Challenge))


def tilted(
    data: bytes, yaw_deg: float, pitch_deg: float, roll_deg: float, shift: tuple[float, float], scale: float
) -> bytes:
    """The photo as a flat print turned about its vertical (yaw) and horizontal (pitch) axes, seen by a camera."""
    image = _decoded(data)
    height, width = image.shape[:2]
    focal = 1.2 * max(width, height)
    a, b, c = (math.radians(v) for v in (pitch_deg, yaw_deg, roll_deg))
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    rotation = rz @ ry @ rx
    corners = np.array(
        [
            [-width / 2, -height / 2, 0],
            [width / 2, -height / 2, 0],
            [width / 2, height / 2, 0],
            [-width / 2, height / 2, 0],
        ]
    )
    placed = corners @ rotation.T + np.array([0, 0, focal / scale])
    projected = placed[:, :2] * focal / placed[:, 2:3] + np.array([width / 2 + shift[0], height / 2 + shift[1]])
    source = (corners[:, :2] + np.array([width / 2, height / 2])).astype(np.float32)
    homography = cv2.getPerspectiveTransform(source, projected.astype(np.float32))
    return _jpeg(cv2.warpPerspective(image, homography, (width, height), borderMode=cv2.BORDER_REPLICATE))


# The tilt of a print that best fakes each challenge: (yaw, pitch) signs, and zoom.
FAKES = {
    Challenge.TURN_LEFT: (1, 0, 1.0),
    Challenge.TURN_RIGHT: (-1, 0, 1.0),
    Challenge.LOOK_UP: (0, 1, 1.0),
    Challenge.LOOK_DOWN: (0, -1, 1.0),
    Challenge.COME_CLOSER: (0, 0, ZOOM),
}


def warped_frames(person: Person, challenges: tuple[Challenge, ...], rng: random.Random) -> list[bytes]:
    first = person.photos[person.first]
    frames = [first]
    for challenge in challenges:
        yaw, pitch, zoom = FAKES[challenge]
        tilt = rng.uniform(20.0, TILT_DEG)
        shift = (rng.uniform(-10, 10), rng.uniform(-10, 10))
        frames.append(
            tilted(first, yaw * tilt, pitch * tilt, rng.uniform(-15, 15), shift, zoom * rng.uniform(0.95, 1.1))
        )
    return frames


def still_frames(person: Person, challenges: tuple[Challenge, ...], rng: random.Random, noisy: bool) -> list[bytes]:
    first = person.photos[person.first]
    if not noisy:
        return [first] * (len(challenges) + 1)
    image = _decoded(first).astype(np.float32)
    frames = [first]
    for _ in challenges:
        matrix = np.array([[1, 0, rng.uniform(-2, 2)], [0, 1, rng.uniform(-2, 2)]], dtype=np.float32)
        shaken = cv2.warpAffine(image, matrix, image.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 3, image.shape)
        frames.append(_jpeg(np.clip(shaken + noise, 0, 255).astype(np.uint8)))
    return frames


def side_by_side(left: bytes, right: bytes) -> bytes:
    a = _decoded(left)
    b = _decoded(right)
    b = cv2.resize(b, (a.shape[1] * b.shape[0] // max(b.shape[0], 1), a.shape[0])) if b.shape[0] != a.shape[0] else b
    return _jpeg(np.hstack([a, b]))


def sessions(persons: list[Person], per_person: int, count: int = 3, seed: int = SEED) -> Iterator[Session]:
    """Every set's sessions: `per_person` bona fide ones a person (where their photos allow), and the attacks."""
    rng = random.Random(seed)
    for number, person in enumerate(persons):
        others = persons[number + 1 :] + persons[:number]
        other = others[0]
        made = 0
        for _ in range(per_person * 20):
            if made == per_person:
                break
            challenges = random_challenges(rng, count)
            frames = bona_fide_frames(person, challenges, rng)
            if frames is None:
                continue
            made += 1
            yield Session("bona fide", person.name, challenges, tuple(frames))
            reordered = [p for p in itertools.permutations(challenges) if p != challenges]
            yield Session("wrong order", person.name, rng.choice(reordered), tuple(frames))
            theirs = next((f for f in (bona_fide_frames(o, challenges, rng) for o in others) if f), None)
            if theirs is not None:  # the first challenge by this person, the rest by another
                yield Session("identity switch", person.name, challenges, tuple(frames[:2] + theirs[2:]))
            two = list(frames)
            two[2] = side_by_side(frames[2], other.photos[other.first])
            yield Session("two faces", person.name, challenges, tuple(two))
            yield Session(
                "still photo", person.name, challenges, tuple(still_frames(person, challenges, rng, made % 2 == 0))
            )
            yield Session("warped photo", person.name, challenges, tuple(warped_frames(person, challenges, rng)))
