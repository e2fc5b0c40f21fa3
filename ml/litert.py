"""Convert the embedders for LiteRT, the runtime each runs on by CPU.

`python -m ml.litert` (run by `make install`, after `python -m weights.fetch`):
each manifest embedder that converts is loaded on its own runtime from its checked
weights (TensorFlow for the FaceNets, OpenCV's DNN module for SFace's ONNX file),
converted to a LiteRT flatbuffer (the FaceNets by TensorFlow's converter, SFace by
onnx2tf), and kept only if the two runtimes give the same embeddings (within
AGREEMENT in cosine distance) on a fixed batch of crops. The flatbuffer goes into
the weights folder with a record of its sha256, which the loader checks. A
conversion already in place and intact is left alone, so reruns cost nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import tempfile
from pathlib import Path

import numpy as np

from ml.embedder import Embedder, LiteRtEmbedder, OpenCvEmbedder, load_tensorflow_embedder
from ml.quiet import native_logs_filtered
from weights import EMBEDDERS, EmbedderSpec, WeightsError, weights_path
from weights.loader import checked_litert_path, litert_path, litert_record, sha256_of
from weights.store import DEFAULT_DIR

# The most cosine distance allowed between the two runtimes' embeddings of one crop.
AGREEMENT = 1e-4
_PROBES = 8  # crops in the agreement check


def _probe_crops(spec: EmbedderSpec) -> np.ndarray:
    """Smooth random images: any input checks that two runtimes compute one function."""
    rng = np.random.default_rng(20170512)
    coarse = rng.integers(0, 256, (_PROBES, 10, 10, 3)).astype(np.float32)
    scale, size = math.ceil(spec.input_size / 10), spec.input_size
    fine = coarse.repeat(scale, axis=1).repeat(scale, axis=2)[:, :size, :size]
    noise = rng.normal(0, 12, fine.shape)
    return np.clip(fine + noise, 0, 255).astype(np.uint8)


def cosine_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row by row, for unit vectors."""
    distances: np.ndarray = 1.0 - np.sum(a * b, axis=1)
    return distances


def _onnx_to_litert(source: Path) -> bytes:
    """An ONNX network as a LiteRT flatbuffer, through onnx2tf: channels last, float32, any batch size."""
    import onnx
    import onnx2tf

    model = onnx.load(str(source))
    # The file fixes the batch at 1; a named dimension makes the flatbuffer take any batch (the
    # engine's batches). Initialisers listed among the inputs are weights, not inputs: left alone.
    weights = {initialiser.name for initialiser in model.graph.initializer}
    for tensor in (*model.graph.input, *model.graph.output):
        if tensor.name not in weights:
            tensor.type.tensor_type.shape.dim[0].dim_param = "batch"
    # onnx2tf writes into the folder it runs in and rewrites the ONNX file it is given (measured: it
    # changed a shipped file's checksum), so it gets a copy, in a folder of its own.
    with tempfile.TemporaryDirectory(prefix="onnx2tf-") as scratch, contextlib.chdir(scratch):
        onnx.save(model, "model.onnx")
        onnx2tf.convert(input_onnx_file_path="model.onnx", output_folder_path="converted", non_verbose=True)
        return Path(scratch, "converted", "model_float32.tflite").read_bytes()


def _reference_and_flatbuffer(spec: EmbedderSpec, weights_dir: Path) -> tuple[Embedder, bytes]:
    """The network on the runtime its weights were made for, and its LiteRT conversion."""
    if spec.format == "onnx":
        return OpenCvEmbedder(spec, weights_dir), _onnx_to_litert(weights_path(spec.weights, weights_dir))
    reference = load_tensorflow_embedder(spec, weights_dir)
    with contextlib.redirect_stdout(io.StringIO()):  # Keras lists the exported signature's tensors
        return reference, reference.to_litert()


def convert(spec: EmbedderSpec, weights_dir: Path = DEFAULT_DIR) -> Path:
    """Put `spec`'s LiteRT conversion in the weights folder (converting only if needed); its checked path."""
    if not spec.converts_to_litert:
        raise WeightsError(f"{spec.key} does not convert for LiteRT; it runs on its own runtime")
    try:
        return checked_litert_path(spec.weights, weights_dir)
    except WeightsError:
        pass
    target, record = litert_path(spec.weights, weights_dir), litert_record(spec.weights, weights_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with native_logs_filtered():
        reference, flatbuffer = _reference_and_flatbuffer(spec, weights_dir)
        partial.write_bytes(flatbuffer)
        probes = _probe_crops(spec)
        worst = float(cosine_distances(reference.embed(probes), LiteRtEmbedder(spec, path=partial).embed(probes)).max())
    if not worst <= AGREEMENT:
        partial.unlink()
        raise WeightsError(f"{spec.key}: LiteRT and {reference.runtime.value} differ by {worst:.2e} in cosine distance")
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
    convertible = [key for key, spec in EMBEDDERS.items() if spec.converts_to_litert]
    for key in args.embedders or convertible:
        path = convert(EMBEDDERS[key], args.dir)
        if not args.quiet:
            print(f"{key}: {path}")


if __name__ == "__main__":
    main()
