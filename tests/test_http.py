"""The HTTP surface around GraphQL: GraphiQL, health and metrics."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from tests.helpers import ANGELINA, b64


async def test_root_opens_the_console_served_here_with_its_policy(api):
    response = await api.http.get("/")
    assert response.status_code in (302, 307) and response.headers["location"] == "/console/"
    page = await api.http.get("/console/")
    assert page.status_code == 200 and 'href="/graphql"' in page.text  # the console links the API
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path in ("/console/console.js", "/console/console.css", "/console/vendor/graphql-ws.js"):
        assert (await api.http.get(path)).status_code == 200, path
    assert (await api.http.get("/console/vendor/other.js")).status_code == 404
    assert (await api.http.get("/console/package.json")).status_code == 404  # only console/app is served


async def test_graphiql_health_and_metrics(api):
    page = await api.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    # The page says how to send a key, and fills the headers pane with its shape.
    assert "Bearer <your key>" in page.text and "admin-api-key" in page.text
    assert 'storage.getItem("graphiql:headers")' in page.text and "window.sessionStorage" in page.text  # per tab
    health = (await api.http.get("/healthz")).json()
    assert health["status"] == "ok" and health["model"] == api.services.model_id
    assert health["detector"] == "yunet-onet" and set(health["startup_s"]) == {"models", "gallery"}
    # No GPU here: the embedder (SFace, converted at install) on LiteRT's XNNPACK, and the detector on OpenCV's
    # DNN module (PyPI's build has no CUDA), both on the CPU.
    assert (health["runtime"], health["device"], health["detector_device"]) == ("litert", "CPU", "CPU")
    # BLAS on one thread: its spinning threads would take the cores from the models (services.build_engine).
    assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}

    await api.http.delete("/metrics", headers=api.headers)
    await api.ok("query($b: String!) { verifyLinear(image: {base64: $b}) { searched } }", b=b64(ANGELINA[0]))
    metrics = (await api.http.get("/metrics", headers={**api.headers, "Accept": "application/json"})).json()
    assert metrics["gallery_bytes"] >= metrics["gallery_faces"] * api.services.model().spec.dimension * 4
    assert metrics["rss_mb"] > 100  # the models alone are hundreds of MB
    stages = metrics["stages"]
    assert stages["detect"]["items"] == 1 and stages["embed"]["items"] == 1 and stages["search"]["items"] == 1
    assert stages["search"]["p50_ms"] >= 0


async def test_answers_and_browser_files_are_compressed_for_clients_that_ask(api):
    script = await api.http.get("/graphiql/graphiql.min.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
    assert script.num_bytes_downloaded < len(script.content) / 3  # 3.5 MB of JavaScript
    assert "accept-encoding" in script.headers["vary"].lower()
    gzip = {**api.headers, "Accept-Encoding": "gzip"}
    codes = await api.http.post("/graphql", json={"query": "{ errorCodes { code description } }"}, headers=gzip)
    assert codes.headers["content-encoding"] == "gzip" and codes.json()["data"]["errorCodes"]
    # Small answers, clients that do not ask, and JPEG crops (compressed already) go as they are.
    small = await api.http.post("/graphql", json={"query": "{ me { name } }"}, headers=api.headers)
    assert "content-encoding" not in small.headers
    plain = await api.http.get("/graphiql/graphiql.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == script.content
    person = await api.create_person("Crop")
    face = await api.enrol(person, ANGELINA[0])
    crop = await api.http.get(f"/faces/{face['id']}/crop.jpg", headers=gzip)
    assert crop.status_code == 200 and "content-encoding" not in crop.headers
