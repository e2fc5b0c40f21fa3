"""Model weights: what each model is (the manifest) and how to load it safely."""

from weights.loader import WeightsError, weights_path
from weights.manifest import (
    DEFAULT_DETECTOR,
    DEFAULT_EMBEDDER,
    EMBEDDERS,
    FACENET128,
    FACENET512,
    MTCNN_NETS,
    SFACE,
    SFACE_INT8,
    YUNET,
    YUNET_INT8,
    BoxMapping,
    CropRecipe,
    EmbedderSpec,
    Standardisation,
    WeightsFile,
    YunetSpec,
)

__all__ = [
    "DEFAULT_DETECTOR",
    "DEFAULT_EMBEDDER",
    "EMBEDDERS",
    "FACENET128",
    "FACENET512",
    "MTCNN_NETS",
    "SFACE",
    "SFACE_INT8",
    "YUNET",
    "YUNET_INT8",
    "BoxMapping",
    "CropRecipe",
    "EmbedderSpec",
    "Standardisation",
    "WeightsError",
    "WeightsFile",
    "YunetSpec",
    "weights_path",
]
