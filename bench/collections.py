"""Collections benchmark: a 1:K search in one of 100 collections of 10,000 faces, against a 10,000-face gallery
alone and against one collection of 1,000,000.

`make bench-collections` writes bench/results/collections.md. The memory backend keeps a
matrix per collection (search/galleries.py), so a search in a 10k collection should cost
what a 10k gallery alone costs, whatever else the server holds (target: p50 and p99 within
+20 %). All three layouts hold the same random unit vectors (10 faces per synthetic person)
and are searched, one BLAS thread as the server runs it, by the same probes, interleaved,
in one process: like with like.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from bench.report import RESULTS, header, table
from search.galleries import Galleries
from search.gallery import Gallery
from weights import EMBEDDERS
from weights.manifest import DEFAULT_EMBEDDER

DIMENSION = EMBEDDERS[DEFAULT_EMBEDDER].dimension
COLLECTIONS = 100
FACES_EACH = 10_000
FACES_PER_PERSON = 10
LIMIT = 10  # persons a search returns, as bench-scale asks
PROBES = 300
TARGET_RATIO = 1.2  # one of the 100 against a 10k gallery alone


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def layouts(collections: int, faces_each: int) -> tuple[Gallery, Galleries, Galleries]:
    """The same faces three ways: the first collection's alone, in `collections` collections, and all in one."""
    total = collections * faces_each
    vectors = unit_vectors(total, seed=23)
    face_ids = [f"f{i}" for i in range(total)]
    person_ids = [f"p{i // FACES_PER_PERSON}" for i in range(total)]
    alone = Gallery(DIMENSION, faces_each)
    alone.extend(face_ids[:faces_each], person_ids[:faces_each], vectors[:faces_each])
    split = Galleries(DIMENSION)
    split.reserve({f"c{c}": faces_each for c in range(collections)})
    split.extend(face_ids, person_ids, [f"c{i // faces_each}" for i in range(total)], vectors)
    merged = Galleries(DIMENSION)
    merged.reserve({"all": total})
    merged.extend(face_ids, person_ids, ["all"] * total, vectors)
    return alone, split, merged


def timed(search: Gallery, probe: np.ndarray) -> float:
    started = time.perf_counter()
    search.search(probe, LIMIT)
    return time.perf_counter() - started


def percentiles_ms(seconds: list[float]) -> tuple[float, float]:
    p50, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 99])
    return float(p50), float(p99)


def measure(collections: int, faces_each: int, probes: int) -> dict[str, Any]:
    alone, split, merged = layouts(collections, faces_each)
    one_of_many = split.of("c0")
    big = merged.of("all")
    assert one_of_many is not None and big is not None
    queries = unit_vectors(probes, seed=29)
    seconds: dict[str, list[float]] = {"alone": [], "one of many": [], "one big": []}
    same = 0
    with threadpool_limits(1, user_api="blas"):
        for probe in queries[:10]:  # warm the caches and the BLAS code paths
            timed(alone, probe), timed(one_of_many, probe), timed(big, probe)
        for probe in queries:
            seconds["alone"].append(timed(alone, probe))
            seconds["one of many"].append(timed(one_of_many, probe))
            seconds["one big"].append(timed(big, probe))
            same += alone.search(probe, LIMIT) == one_of_many.search(probe, LIMIT)
    return {
        "ms": {name: percentiles_ms(values) for name, values in seconds.items()},
        "same_answers": same,
        "bytes": {"alone": alone.nbytes, "split": split.nbytes, "merged": merged.nbytes},
    }


def report(path: Path, collections: int, faces_each: int, probes: int, m: dict[str, Any], total_s: float) -> None:
    ms, size = m["ms"], m["bytes"]
    (alone_50, alone_99), (many_50, many_99), (big_50, big_99) = ms["alone"], ms["one of many"], ms["one big"]
    ratio_50, ratio_99 = many_50 / alone_50, many_99 / alone_99
    met = "met" if ratio_50 <= TARGET_RATIO and ratio_99 <= TARGET_RATIO else "missed"
    lines = [
        *header(f"Collections benchmark: {collections} × {faces_each:,} faces", "make bench-collections"),
        "## Target",
        "",
        *table(
            ["target", "measured", ""],
            [
                [
                    f"1:K in one of {collections} collections ≤ a {faces_each:,}-face gallery alone +20 % (p50, p99)",
                    f"×{ratio_50:.2f} / ×{ratio_99:.2f}",
                    met,
                ]
            ],
        ),
        "## Search (memory backend)",
        "",
        f"{probes} random unit probes, {LIMIT} persons each, exact (search/gallery.py's matrix product and ranking), "
        "one BLAS thread; the three layouts searched in turn for each probe, in one process.",
        "",
        *table(
            ["layout", "faces compared", "p50 ms", "p99 ms", "matrix MB"],
            [
                [
                    f"a {faces_each:,}-face gallery alone",
                    f"{faces_each:,}",
                    f"{alone_50:.2f}",
                    f"{alone_99:.2f}",
                    f"{size['alone'] / 2**20:.0f}",
                ],
                [
                    f"one of {collections} collections of {faces_each:,}",
                    f"{faces_each:,}",
                    f"{many_50:.2f}",
                    f"{many_99:.2f}",
                    f"{size['split'] / 2**20:.0f} (all {collections})",
                ],
                [
                    f"one collection of {collections * faces_each:,}",
                    f"{collections * faces_each:,}",
                    f"{big_50:.2f}",
                    f"{big_99:.2f}",
                    f"{size['merged'] / 2**20:.0f}",
                ],
            ],
        ),
        f"- The search in the first of the {collections} collections gave the same answer as the gallery of its "
        f"faces alone for {m['same_answers']} of {probes} probes: no other collection's face is compared.",
        f"- Memory: {collections} collections hold {size['split'] / 2**20:.0f} MB of matrices against "
        f"{size['merged'] / 2**20:.0f} MB for the same faces in one (×{size['split'] / size['merged']:.2f}).",
        "- pgvector (SEARCH_BACKEND=pgvector) filters on the collection inside its scans (search/pgvector.py); its "
        "recall with the filter is not measured here yet.",
        "",
        f"Total run time {total_s:.0f} s.",
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "collections.md")
    parser.add_argument("--collections", type=int, default=COLLECTIONS)
    parser.add_argument("--faces-each", type=int, default=FACES_EACH)
    parser.add_argument("--probes", type=int, default=PROBES)
    args = parser.parse_args()
    started = time.perf_counter()
    measured = measure(args.collections, args.faces_each, args.probes)
    report(args.out, args.collections, args.faces_each, args.probes, measured, time.perf_counter() - started)
    print(args.out.read_text())


if __name__ == "__main__":
    main()
