"""Face embedders: aligned RGB face crops in, unit-length embeddings out.

Two FaceNets sit behind one interface: the 128-d Keras model (the default) and
the 512-d frozen graph. What differs between them (file format, standardisation,
size) comes from their manifest entry.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from weights import EmbedderSpec, Standardisation, weights_path


class Embedder(Protocol):
    spec: EmbedderSpec

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


class _TensorFlowEmbedder:
    """What both FaceNets share: input checks, standardisation, mirroring, normalisation."""

    def __init__(self, spec: EmbedderSpec) -> None:
        import tensorflow as tf

        self.spec = spec
        self._tf = tf

    @property
    def device(self) -> str:
        return "GPU" if self._tf.config.list_physical_devices("GPU") else "CPU"

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
        batch = self._tf.constant(standardise(faces, self.spec.standardisation))
        return np.asarray(self._run(batch), dtype=np.float32)

    def _run(self, batch: Any) -> Any:
        raise NotImplementedError


class KerasFaceNetEmbedder(_TensorFlowEmbedder):
    """The Keras HDF5 FaceNet, rebuilt by ml.keras_facenet and run as one traced function."""

    def __init__(self, spec: EmbedderSpec) -> None:
        super().__init__(spec)
        from ml.keras_facenet import build_facenet

        model = build_facenet(weights_path(spec.weights))
        signature = [self._tf.TensorSpec([None, spec.input_size, spec.input_size, 3], self._tf.float32)]
        self._call = self._tf.function(lambda batch: model(batch, training=False), input_signature=signature)

    def _run(self, batch: Any) -> Any:
        return self._call(batch).numpy()


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

    def __init__(self, spec: EmbedderSpec) -> None:
        super().__init__(spec)
        tf = self._tf
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(weights_path(spec.weights).read_bytes())
        graph_def = _batchable(graph_def, spec)

        def _import() -> None:
            tf.compat.v1.import_graph_def(graph_def, name="")

        wrapped = tf.compat.v1.wrap_function(_import, [])
        self._pruned = wrapped.prune(
            wrapped.graph.as_graph_element(spec.input_tensor),
            wrapped.graph.as_graph_element(spec.output_tensor),
        )

    def _run(self, batch: Any) -> Any:
        return self._pruned(batch).numpy()


_BY_FORMAT: dict[str, type[_TensorFlowEmbedder]] = {
    "keras-h5": KerasFaceNetEmbedder,
    "frozen-graph": FrozenGraphEmbedder,
}


def load_embedder(spec: EmbedderSpec) -> Embedder:
    """The embedder for a manifest entry, its weights checked and loaded."""
    return _BY_FORMAT[spec.format](spec)
