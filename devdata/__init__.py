"""The shared photo sets (faces-dev, LFW, kpop-crops) that tests and benchmarks read in place.

Dev-only: not part of the installed package.

They live beside the repository, in ../shared/datasets/faces-dev (FACES_DEV
overrides), and are never copied into it.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

# Beside the repository: this file is <repo>/devdata/__init__.py.
ROOT = Path(os.environ.get("FACES_DEV", Path(__file__).resolve().parents[2] / "shared/datasets/faces-dev"))
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


# ------------------------------------------------------------------------- LFW

DATASETS = ROOT.parent
LFW = Path(os.environ.get("LFW_DIR", DATASETS / "lfw"))
KPOP = Path(os.environ.get("KPOP_DIR", DATASETS / "kpop-crops"))


@dataclass(frozen=True)
class LfwPair(Pair):
    fold: int  # 0..9, as pairs.txt orders them


def lfw_photo(name: str, number: int) -> Path:
    return LFW / "images" / name / f"{name}_{number:04d}.jpg"


def read_lfw_pairs() -> list[LfwPair]:
    """LFW's standard View 2 protocol: 10 folds of 300 same and 300 different pairs."""
    lines = (LFW / "pairs.txt").read_text().splitlines()
    folds, per_half = (int(v) for v in lines[0].split())
    pairs = []
    for index, line in enumerate(lines[1 : 1 + folds * 2 * per_half]):
        fields = line.split()
        fold = index // (2 * per_half)
        if len(fields) == 3:
            name, i, j = fields
            pairs.append(LfwPair(lfw_photo(name, int(i)), lfw_photo(name, int(j)), True, fold))
        else:
            name_x, i, name_y, j = fields
            pairs.append(LfwPair(lfw_photo(name_x, int(i)), lfw_photo(name_y, int(j)), False, fold))
    return pairs


def lfw_person(path: Path) -> str:
    return path.parent.name


# ----------------------------------------------------------------- kpop-crops

KPOP_PER_PERSON = 10  # crops a person taken into the pairs
KPOP_SEED = 20261128


def kpop_photos() -> dict[str, list[Path]]:
    """kpop-crops/<person>/*, by person, sorted."""
    return {
        person.name: sorted(p for p in person.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        for person in sorted(KPOP.iterdir())
        if person.is_dir()
    }


def kpop_pairs() -> list[Pair]:
    """Deterministic pairs: the first 10 crops (sorted by name) of each of the 15 persons;
    every same-person pair among them (15 x 45 = 675), and as many different-person
    pairs drawn without repeats from all cross-person pairs of those crops, with a fixed seed."""
    import random

    chosen = {name: paths[:KPOP_PER_PERSON] for name, paths in kpop_photos().items()}
    same = [Pair(x, y, True) for paths in chosen.values() for i, x in enumerate(paths) for y in paths[i + 1 :]]
    names = sorted(chosen)
    cross = [
        Pair(x, y, False)
        for a, name_a in enumerate(names)
        for name_b in names[a + 1 :]
        for x in chosen[name_a]
        for y in chosen[name_b]
    ]
    return same + random.Random(KPOP_SEED).sample(cross, len(same))
