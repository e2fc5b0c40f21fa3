"""What a search finds, and the one ranking every backend applies: the nearest face of each person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Match:
    """A stored face near the probe: whose it is, and how near (Euclidean distance between unit embeddings)."""

    face_id: str
    person_id: str
    distance: float


def best_per_person(nearest_first: Iterable[Match], limit: int) -> list[Match]:
    """From matches nearest first: the first (nearest) face of each person, up to `limit` persons."""
    best: list[Match] = []
    seen: set[str] = set()
    for match in nearest_first:
        if match.person_id not in seen:
            seen.add(match.person_id)
            best.append(match)
            if len(best) == limit:
                break
    return best


def similarity(distance: float) -> float:
    """(1 + cosine) / 2 = 1 - d^2 / 4 for unit vectors: monotone, 1 at d = 0, 0 at d = 2."""
    return float(min(1.0, max(0.0, 1.0 - distance * distance / 4.0)))
