"""A locked-down deployment: no face crops kept, no GraphiQL page, no introspection.

A module of its own: its app has settings of its own.
"""

from __future__ import annotations

import sqlite3

import pytest

from settings import Settings
from tests.helpers import ANGELINA, b64, server_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return server_settings(tmp_path_factory.mktemp("data"), store_face_crops=False, graphiql=False, introspection=False)


async def test_without_stored_crops_only_the_embedding_is_kept(api):
    person = await api.create_person("No crop")
    face = await api.enrol(person, ANGELINA[0])
    data = await api.ok("query($id: ID!) { face(id: $id) { cropJpegBase64 cropUrl model } }", id=face["id"])
    assert data["face"] == {"cropJpegBase64": None, "cropUrl": None, "model": api.services.model_id}
    response = await api.http.get(f"/faces/{face['id']}/crop.jpg", headers=api.headers)
    assert response.status_code == 404
    with sqlite3.connect(api.services.settings.data_dir / "faces.sqlite3") as connection:
        crops = connection.execute("SELECT length(crop_jpeg) FROM face").fetchall()
    assert crops == [(0,)]
    query = "query($p: ID!, $b: String!) { verifyPerson(personId: $p, image: {base64: $b}) { match } }"
    result = await api.ok(query, p=person, b=b64(ANGELINA[1]))
    assert result["verifyPerson"]["match"] is True


async def test_graphiql_and_introspection_can_be_switched_off(api):
    page = await api.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404
    body = await api.raw("{ __schema { types { name } } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in body["errors"][0]["message"].lower()
    assert (await api.ok("{ model { name } }"))["model"]["name"] == api.services.model_id
