"""Rebuild the 128-d Keras FaceNet from its HDF5 file, without unpickling any code.

The file (Keras 2.1.2) stores its architecture as JSON and its weights by layer
name. Keras 3 cannot load it whole: its 21 `Lambda` layers hold marshalled Python
bytecode. Each of them computes `inputs[0] + inputs[1] * scale` (the residual
"ScaleSum" of Inception-ResNet), with `scale` in the layer's `arguments`, so they
are rebuilt as `ScaleSum` layers and the bytecode is never executed.

For inference, each batch normalisation that directly follows a convolution or
dense layer (and is its only reader) is folded into that layer's kernel and bias:
the same function with about 110 fewer operations per face (bench/perf).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import h5py
import keras
import numpy as np

# Layer kinds in the file, and the config keys each needs at inference time.
_KEYS = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "use_bias", "activation", "dilation_rate"),
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale"),
    "Activation": ("activation",),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "Concatenate": ("axis",),
    "GlobalAveragePooling2D": (),
    "Dense": ("units", "use_bias", "activation"),
}
_FOLDABLE = {"Conv2D", "Dense"}


class ScaleSum(keras.layers.Layer):  # type: ignore[misc]  # keras ships no type information
    """`inputs[0] + inputs[1] * scale`: the residual connection the Lambdas computed."""

    def __init__(self, scale: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs: list[Any]) -> Any:
        return inputs[0] + inputs[1] * self.scale


def _layer(kind: str, config: dict[str, Any]) -> Any:
    """A Keras 3 layer for one config entry; None for a layer that is the identity at inference."""
    name = config["name"]
    if kind == "Lambda":
        return ScaleSum(config["arguments"]["scale"], name=name)
    if kind == "Dropout":
        return None
    if kind not in _KEYS:
        raise ValueError(f"unexpected layer {kind} ({name}) in the FaceNet file")
    return getattr(keras.layers, kind)(name=name, **{key: config[key] for key in _KEYS[kind]})


def _stored(h5: h5py.File, name: str) -> dict[str, np.ndarray]:
    """A layer's stored weights by short name (kernel, bias, beta, moving_mean, ...)."""
    group = h5["model_weights"][name]
    return {raw.decode().split("/")[-1].split(":")[0]: group[raw.decode()][()] for raw in group.attrs["weight_names"]}


def _folded(layer: dict[str, np.ndarray], norm: dict[str, np.ndarray], config: dict[str, Any]) -> list[np.ndarray]:
    """Kernel and bias of `layer` followed by the batch norm `norm` (gamma 1 where it has no scale)."""
    gamma = norm.get("gamma", np.ones_like(norm["moving_variance"]))
    factor = gamma / np.sqrt(norm["moving_variance"] + config["epsilon"])
    bias = layer.get("bias", np.zeros_like(factor))
    beta = norm.get("beta", np.zeros_like(factor))
    return [layer["kernel"] * factor, (bias - norm["moving_mean"]) * factor + beta]


def build_facenet(path: Path) -> keras.Model:
    """The network in `path`, its weights loaded; output: the (N, 128) bottleneck, not yet normalised."""
    with h5py.File(path, "r") as h5:
        model_config = json.loads(h5.attrs["model_config"])["config"]
        entries = model_config["layers"]
        kinds = {entry["name"]: entry["class_name"] for entry in entries}
        readers = Counter(source for entry in entries for source, *_ in (entry["inbound_nodes"] or [[]])[0])
        # Each foldable batch norm, by the layer it folds into.
        folds = {
            entry["inbound_nodes"][0][0][0]: entry
            for entry in entries
            if entry["class_name"] == "BatchNormalization"
            and len(entry["inbound_nodes"][0]) == 1
            and kinds[entry["inbound_nodes"][0][0][0]] in _FOLDABLE
            and readers[entry["inbound_nodes"][0][0][0]] == 1
        }
        folded_norms = {entry["name"] for entry in folds.values()}
        outputs: dict[str, Any] = {}
        weights: dict[str, tuple[Any, list[np.ndarray]]] = {}
        for entry in entries:
            name, kind, config = entry["name"], entry["class_name"], entry["config"]
            if kind == "InputLayer":
                outputs[name] = keras.Input(shape=tuple(config["batch_input_shape"][1:]), name=name)
                continue
            inbound = [outputs[source] for source, *_ in entry["inbound_nodes"][0]]
            if name in folded_norms:
                outputs[name] = inbound[0]  # already applied by the layer before it
                continue
            layer = _layer(kind, {**config, "use_bias": True} if name in folds else config)
            if layer is None:
                outputs[name] = inbound[0]
                continue
            outputs[name] = layer(inbound if len(inbound) > 1 else inbound[0])
            if layer.weights:
                stored = _stored(h5, name)
                if name in folds:
                    norm = folds[name]
                    values = _folded(stored, _stored(h5, norm["name"]), norm["config"])
                else:
                    values = [stored[variable.name] for variable in layer.weights]
                weights[name] = (layer, values)
        (input_name, *_), (output_name, *_) = model_config["input_layers"][0], model_config["output_layers"][0]
        model = keras.Model(outputs[input_name], outputs[output_name])
        for layer, values in weights.values():
            layer.set_weights(values)
    return model
