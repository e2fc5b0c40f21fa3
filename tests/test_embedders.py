"""EMBEDDER=facenet512 keeps the earlier model selectable, EMBEDDER=sface adds an ArcFace-style one; ids never meet."""

from __future__ import annotations

import logging

import pytest

import devdata
from services import build_pipeline
from tests.helpers import ANGELINA, b64, server_settings, start_api

VERIFY = "query($b: String!) { verifyLinear(image: {base64: $b}) { match searched model best { distance } } }"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embedders")


async def test_each_embedder_searches_only_its_own_faces(pipeline, data_dir, caplog):
    default = server_settings(data_dir)
    async with start_api(default, pipeline) as api:
        person = await api.create_person("Angelina")
        await api.enrol(person, ANGELINA[0])
        result = (await api.ok(VERIFY, b=b64(ANGELINA[1])))["verifyLinear"]
        assert result["match"] and result["searched"] == 1
        assert result["model"] == "facenet128-msceleb-20170512-mtcnn-box0.2"

    older = server_settings(data_dir, embedder="facenet512")
    with caplog.at_level(logging.WARNING):
        async with start_api(older, build_pipeline(older)) as api:
            model = (await api.ok("{ model { name embedder dimension defaultThreshold } }"))["model"]
            assert model["name"] == "facenet-vggface2-20180408-align5pt" and model["dimension"] == 512
            assert model["embedder"] == "facenet512"
            # The 128-d face is stored but is another model's: not searched, never compared.
            result = (await api.ok(VERIFY, b=b64(ANGELINA[1])))["verifyLinear"]
            assert result["searched"] == 0 and result["best"] is None and not result["match"]
            await api.enrol(person, ANGELINA[0])
            result = (await api.ok(VERIFY, b=b64(ANGELINA[1])))["verifyLinear"]
            assert result["match"] and result["searched"] == 1
    assert "1 stored faces belong to other models" in caplog.text


async def test_sface_verifies_through_the_api(data_dir):
    """SFace end to end: aligned to the ArcFace template, run on OpenCV; the same person matches, another does not."""
    settings = server_settings(data_dir / "sface", embedder="sface")
    async with start_api(settings, build_pipeline(settings)) as api:
        model = (await api.ok("{ model { name embedder dimension inputSize } }"))["model"]
        assert model == {"name": "sface-2021dec-arcface112", "embedder": "sface", "dimension": 128, "inputSize": 112}
        person = await api.create_person("Angelina")
        await api.enrol(person, ANGELINA[0])
        same = (await api.ok(VERIFY, b=b64(ANGELINA[1])))["verifyLinear"]
        assert same["match"] and same["model"] == "sface-2021dec-arcface112"
        other = (await api.ok(VERIFY, b=b64(devdata.DEEPFACE / "img20.jpg")))["verifyLinear"]  # pairs-master: not her
        assert not other["match"] and other["best"]["distance"] > same["best"]["distance"]
