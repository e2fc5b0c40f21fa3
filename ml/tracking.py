"""Faces followed from one video frame to the next, so a known face is not re-identified every frame.

A detection continues the track whose last box it overlaps most (intersection over
union, greedily, best pairs first). A track asks to be identified again only when its
identity has aged: a recognised face every `known_refresh_s`, an unknown one sooner,
since it may be someone just enrolled or a face that was turned away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from ml.detection import Box, Detection, iou

Identity = TypeVar("Identity")


@dataclass(frozen=True)
class TrackerPolicy:
    min_iou: float = 0.3  # webcam faces move a few pixels a frame; another face rarely overlaps this much
    known_refresh_s: float = 1.0
    unknown_refresh_s: float = 0.25
    forget_after_s: float = 1.0  # a face out of sight this long comes back as a new track


@dataclass
class Track(Generic[Identity]):
    id: int
    box: Box
    last_seen: float
    identity: Identity | None = None
    known: bool = False  # whether the identity named someone
    identified_at: float | None = None

    def due(self, now: float, policy: TrackerPolicy) -> bool:
        """Whether this track's face should go to the embedder again."""
        if self.identified_at is None:
            return True
        refresh = policy.known_refresh_s if self.known else policy.unknown_refresh_s
        return now - self.identified_at >= refresh


@dataclass(frozen=True)
class Sighting(Generic[Identity]):
    """A detection in this frame and the track it belongs to."""

    detection: Detection
    track: Track[Identity]


class FaceTracker(Generic[Identity]):
    """The tracks of one video stream; not thread-safe (one stream, one task)."""

    def __init__(self, policy: TrackerPolicy | None = None) -> None:
        self.policy = policy or TrackerPolicy()
        self.tracks: list[Track[Identity]] = []
        self._next_id = 1

    def update(self, detections: list[Detection], now: float) -> list[Sighting[Identity]]:
        """Match this frame's detections to tracks (new ones for the rest), in the detections' order."""
        self.tracks = [t for t in self.tracks if now - t.last_seen < self.policy.forget_after_s]
        pairs = sorted(
            (
                (overlap, d, t)
                for d, detection in enumerate(detections)
                for t, track in enumerate(self.tracks)
                if (overlap := iou(detection.box, track.box)) >= self.policy.min_iou
            ),
            reverse=True,
        )
        chosen: dict[int, Track[Identity]] = {}
        taken: set[int] = set()
        for _, d, t in pairs:
            if d not in chosen and t not in taken:
                chosen[d] = self.tracks[t]
                taken.add(t)
        sightings = []
        for d, detection in enumerate(detections):
            track = chosen.get(d)
            if track is None:
                track = Track(self._next_id, detection.box, now)
                self._next_id += 1
                self.tracks.append(track)
            track.box, track.last_seen = detection.box, now
            sightings.append(Sighting(detection, track))
        return sightings

    def identified(self, track: Track[Identity], identity: Identity, known: bool, now: float) -> None:
        track.identity, track.known, track.identified_at = identity, known, now
