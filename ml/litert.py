"""Convert the FaceNets for LiteRT, the runtime the embedder uses on a CPU (SFace runs on OpenCV as shipped).

`python -m ml.litert` (run by `make install`, after `python -m weights.fetch`):
each manifest embedder is loaded in TensorFlow from its checked weights, converted
to a LiteRT flatbuffer, and kept only if the two runtimes give the same embeddings
(within AGREEMENT in cosine distance) on a fixed batch of crops. The flatbuffer goes
into the weights folder with a record of its sha256, which the loader checks. A
conversion already in place and intact is left alone, so reruns cost nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path

import numpy as np

from ml.embedder import LiteRtEmbedder, Runtime, load_tensorflow_embedder, runtimes_of
from ml.quiet import native_logs_filtered
from weights import EMBEDDERS, EmbedderSpec, WeightsError
from weights.loader import checked_litert_path, litert_path, litert_record, sha256_of
from weights.store import DEFAULT_DIR

# The most cosine distance allowed between the two runtimes' embeddings of one crop.
AGREEMENT = 1e-4
_PROBES = 8  # crops in the agreement check


def _probe_crops(spec: EmbedderSpec) -> np.ndarray:
    """Smooth random images: any input checks that two runtimes compute one function."""
    rng = np.random.default_rng(20170512)
    coarse = rng.integers(0, 256, (_PROBES, 10, 10, 3)).astype(np.float32)
    scale = spec.input_size // 10
    fine = coarse.repeat(scale, axis=1).repeat(scale, axis=2)
    noise = rng.normal(0, 12, fine.shape)
    return np.clip(fine + noise, 0, 255).astype(np.uint8)


def cosine_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row by row, for unit vectors."""
    distances: np.ndarray = 1.0 - np.sum(a * b, axis=1)
    return distances


def convert(spec: EmbedderSpec, weights_dir: Path = DEFAULT_DIR) -> Path:
    """Put `spec`'s LiteRT conversion in the weights folder (converting only if needed); its checked path."""
    try:
        return checked_litert_path(spec.weights, weights_dir)
    except WeightsError:
        pass
    target, record = litert_path(spec.weights, weights_dir), litert_record(spec.weights, weights_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with native_logs_filtered():
        reference = load_tensorflow_embedder(spec, weights_dir)
        partial = target.with_suffix(".partial")
        with contextlib.redirect_stdout(io.StringIO()):  # Keras lists the exported signature's tensors
            partial.write_bytes(reference.to_litert())
        probes = _probe_crops(spec)
        worst = float(cosine_distances(reference.embed(probes), LiteRtEmbedder(spec, path=partial).embed(probes)).max())
    if not worst <= AGREEMENT:
        partial.unlink()
        raise WeightsError(f"{spec.key}: LiteRT and TensorFlow differ by {worst:.2e} in cosine distance")
    facts = {"sha256": sha256_of(partial), "source_sha256": spec.weights.sha256, "max_cosine_distance": worst}
    partial.replace(target)  # same folder: an atomic move, never a half-written file
    record.write_text(json.dumps(facts, indent=2) + "\n")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="only errors")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the weights folder (WEIGHTS_DIR)")
    parser.add_argument("embedders", nargs="*", metavar="EMBEDDER", help=f"{', '.join(EMBEDDERS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.embedders) - set(EMBEDDERS)
    if unknown:
        parser.error(f"unknown embedder {', '.join(sorted(unknown))}; choose from {', '.join(EMBEDDERS)}")
    convertible = [key for key, spec in EMBEDDERS.items() if Runtime.LITERT in runtimes_of(spec)]
    for key in args.embedders or convertible:
        path = convert(EMBEDDERS[key], args.dir)
        if not args.quiet:
            print(f"{key}: {path}")


if __name__ == "__main__":
    main()
