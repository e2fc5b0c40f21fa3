"""What a distance means for each model: false and true match rates measured on LFW.

`make bench-accuracy` writes weights/calibration.json from every pair of LFW's 7,701
photos (different people: impostor pairs; the same person: genuine pairs); the
server ships it and reads it here, to give each match a false match rate and to
turn a requested false match rate into a threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"

# The operating points the API lists: false match rates of 1 %, 0.1 % and 0.01 %.
OPERATING_FMRS = (1e-2, 1e-3, 1e-4)


@dataclass(frozen=True)
class Calibration:
    model_id: str
    source: str
    impostor_pairs: int
    genuine_pairs: int
    distances: np.ndarray  # the grid, ascending, from 0 to 2
    fmr: np.ndarray  # share of impostor pairs at or below each distance
    tmr: np.ndarray  # share of genuine pairs at or below each distance

    def false_match_rate(self, distance: float) -> float:
        """Share of different-person pairs at or below `distance` (interpolated on the grid)."""
        return float(np.interp(distance, self.distances, self.fmr))

    def true_match_rate(self, distance: float) -> float:
        return float(np.interp(distance, self.distances, self.tmr))

    def threshold_for(self, max_fmr: float) -> float:
        """The largest grid distance whose false match rate is at most `max_fmr` (0 if none is)."""
        allowed = np.flatnonzero(self.fmr <= max_fmr)
        return float(self.distances[allowed[-1]]) if len(allowed) else 0.0


GRID = np.linspace(0.0, 2.0, 1001)  # the distances every table is kept at (steps of 0.002)


def pair_counts(vectors: np.ndarray, labels: np.ndarray, grid: np.ndarray = GRID) -> tuple[np.ndarray, np.ndarray]:
    """Over every pair of the unit `vectors` (N, d): how many different-label (impostor) and same-label
    (genuine) pairs lie at or below each grid distance. Blocks of rows keep memory at 512 x N."""
    vectors = np.asarray(vectors, dtype=np.float32)
    impostor, genuine = np.zeros(len(grid), np.int64), np.zeros(len(grid), np.int64)
    for start in range(0, len(vectors), 512):
        rows = slice(start, min(start + 512, len(vectors)))
        d = np.sqrt(np.maximum(2.0 - 2.0 * vectors[rows] @ vectors.T, 0.0))
        upper = np.arange(len(vectors))[None, :] > np.arange(rows.start, rows.stop)[:, None]
        same = labels[rows][:, None] == labels[None, :]
        impostor += np.searchsorted(np.sort(d[upper & ~same]), grid, side="right")
        genuine += np.searchsorted(np.sort(d[upper & same]), grid, side="right")
    return impostor, genuine


def from_counts(
    model_id: str, source: str, impostor: np.ndarray, genuine: np.ndarray, grid: np.ndarray = GRID
) -> Calibration:
    """The rates of pair_counts' cumulative counts (a table with no genuine pair has a true match rate of 0)."""
    return Calibration(
        model_id,
        source,
        int(impostor[-1]),
        int(genuine[-1]),
        grid,
        impostor / max(int(impostor[-1]), 1),
        genuine / max(int(genuine[-1]), 1),
    )


def to_json(calibration: Calibration) -> dict[str, Any]:
    return {
        "source": calibration.source,
        "impostor_pairs": calibration.impostor_pairs,
        "genuine_pairs": calibration.genuine_pairs,
        "distances": [round(float(d), 6) for d in calibration.distances],
        "fmr": [float(f"{v:.6g}") for v in calibration.fmr],
        "tmr": [float(f"{v:.6g}") for v in calibration.tmr],
    }


@cache
def _all() -> dict[str, dict[str, Any]]:  # the file, read once
    if not CALIBRATION_FILE.is_file():
        return {}
    entries: dict[str, dict[str, Any]] = json.loads(CALIBRATION_FILE.read_text())
    return entries


@cache
def calibration_of(model_id: str) -> Calibration | None:
    """The model's calibration, or None if the benchmark has not measured that model id.

    Cached: every verification asks for it, and its arrays are built from the file once.
    """
    entry = _all().get(model_id)
    if entry is None:
        return None
    return Calibration(
        model_id,
        entry["source"],
        entry["impostor_pairs"],
        entry["genuine_pairs"],
        np.asarray(entry["distances"]),
        np.asarray(entry["fmr"]),
        np.asarray(entry["tmr"]),
    )


def write_calibrations(calibrations: list[Calibration]) -> None:
    """Add or replace these models' entries in the shipped file (bench/accuracy.py)."""
    entries = dict(_all())
    entries.update({c.model_id: to_json(c) for c in calibrations})
    CALIBRATION_FILE.write_text(json.dumps(dict(sorted(entries.items())), indent=1) + "\n")
    _all.cache_clear()
    calibration_of.cache_clear()
