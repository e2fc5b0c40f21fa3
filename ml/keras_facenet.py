"""Rebuild the 128-d Keras FaceNet from its HDF5 file, without unpickling any code.

The file (Keras 2.1.2) stores its architecture as JSON and its weights by layer
name. Keras 3 cannot load it whole: its 21 `Lambda` layers hold marshalled Python
bytecode. Each of them computes `inputs[0] + inputs[1] * scale` (the residual
"ScaleSum" of Inception-ResNet), with `scale` in the layer's `arguments`, so they
are rebuilt as `ScaleSum` layers and the bytecode is never executed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import keras

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


class ScaleSum(keras.layers.Layer):  # type: ignore[misc]  # keras ships no type information
    """`inputs[0] + inputs[1] * scale`: the residual connection the Lambdas computed."""

    def __init__(self, scale: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs: list[Any]) -> Any:
        return inputs[0] + inputs[1] * self.scale


def _layer(kind: str, config: dict[str, Any]) -> keras.layers.Layer | None:
    """A Keras 3 layer for one config entry; None for a layer that is the identity at inference."""
    name = config["name"]
    if kind == "Lambda":
        return ScaleSum(config["arguments"]["scale"], name=name)
    if kind == "Dropout":
        return None
    if kind not in _KEYS:
        raise ValueError(f"unexpected layer {kind} ({name}) in the FaceNet file")
    return getattr(keras.layers, kind)(name=name, **{key: config[key] for key in _KEYS[kind]})


def build_facenet(path: Path) -> keras.Model:
    """The network in `path`, its weights loaded; output: the (N, 128) bottleneck, not yet normalised."""
    with h5py.File(path, "r") as h5:
        model_config = json.loads(h5.attrs["model_config"])["config"]
        outputs: dict[str, Any] = {}
        layers: dict[str, keras.layers.Layer] = {}
        for entry in model_config["layers"]:
            name, kind, config = entry["name"], entry["class_name"], entry["config"]
            if kind == "InputLayer":
                outputs[name] = keras.Input(shape=tuple(config["batch_input_shape"][1:]), name=name)
                continue
            inbound = [outputs[source] for source, *_ in entry["inbound_nodes"][0]]
            layer = _layer(kind, config)
            if layer is None:
                outputs[name] = inbound[0]
                continue
            layers[name] = layer
            outputs[name] = layer(inbound if len(inbound) > 1 else inbound[0])
        (input_name, *_), (output_name, *_) = model_config["input_layers"][0], model_config["output_layers"][0]
        model = keras.Model(outputs[input_name], outputs[output_name])
        stored = h5["model_weights"]
        for name, layer in layers.items():
            if not layer.weights:
                continue
            group = stored[name]
            by_name = {
                raw.decode().split("/")[-1].split(":")[0]: group[raw.decode()][()]
                for raw in group.attrs["weight_names"]
            }
            layer.set_weights([by_name[variable.name] for variable in layer.weights])
    return model
