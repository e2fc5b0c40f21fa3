"""The shared labelled photos (faces-dev) that tests and benchmarks read in place.

They live beside the repository, in ../shared/datasets/faces-dev (FACES_DEV
overrides), and are never copied into it.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(os.environ.get("FACES_DEV", Path(__file__).resolve().parent.parent / "shared/datasets/faces-dev"))
DEEPFACE = ROOT / "deepface"
CELEBRITY = ROOT / "five-celebrity"


@dataclass(frozen=True)
class Pair:
    x: Path
    y: Path
    same: bool


def read_pairs(name: str) -> list[Pair]:
    """A pair list of deepface/ (`pairs-master.csv` or `pairs-pivot.csv`)."""
    with (DEEPFACE / name).open(newline="") as handle:
        return [
            Pair(DEEPFACE / row["file_x"], DEEPFACE / row["file_y"], row["same"] == "1")
            for row in csv.DictReader(handle)
        ]


def celebrity_photos(split: str) -> dict[str, list[Path]]:
    """five-celebrity/<split>/<person>/*.jpg, by person, sorted."""
    return {
        person.name: sorted(person.glob("*.jpg")) for person in sorted((CELEBRITY / split).iterdir()) if person.is_dir()
    }
