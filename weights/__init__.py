"""Model weights: what each model is (the manifest) and how to load it safely."""

from weights.loader import WeightsError, weights_path
from weights.manifest import EMBEDDER, MTCNN_NETS, EmbedderSpec, WeightsFile

__all__ = [
    "EMBEDDER",
    "MTCNN_NETS",
    "EmbedderSpec",
    "WeightsError",
    "WeightsFile",
    "weights_path",
]
