"""FaceNet embedder: aligned RGB face crops in, unit-length embeddings out."""

from __future__ import annotations

import numpy as np

from weights import EmbedderSpec, weights_path


def _batchable(graph_def, spec: EmbedderSpec):
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


class FaceNetEmbedder:
    """The frozen Inception-ResNet-v1 graph, run by TensorFlow (on a GPU when present)."""

    def __init__(self, spec: EmbedderSpec) -> None:
        import tensorflow as tf

        self.spec = spec
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(weights_path(spec.weights).read_bytes())
        graph_def = _batchable(graph_def, spec)

        def _import():
            tf.compat.v1.import_graph_def(graph_def, name="")

        wrapped = tf.compat.v1.wrap_function(_import, [])
        self._run = wrapped.prune(
            wrapped.graph.as_graph_element(spec.input_tensor),
            wrapped.graph.as_graph_element(spec.output_tensor),
        )
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
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def _forward(self, faces: np.ndarray) -> np.ndarray:
        # Fixed standardisation, as the weights were trained; per-image prewhitening
        # costs about four points of accuracy on the shared pairs.
        batch = (faces.astype(np.float32) - 127.5) / 128.0
        return self._run(self._tf.constant(batch)).numpy().astype(np.float32)
