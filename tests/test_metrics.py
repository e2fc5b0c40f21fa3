"""/metrics in the Prometheus text format, read with prometheus-client's own parser; METRICS_TOKEN for scrapers."""

from __future__ import annotations

from models import DEFAULT_COLLECTION_ID
from tests.helpers import ANGELINA, Api, b64, scrape

VERIFY = "query($b: String!) { verifyLinear(image: {base64: $b}) { match } }"


async def test_a_scrape_counts_operations_errors_stages_and_levels(api: Api):
    person = await api.create_person("Angelina")
    await api.enrol(person, ANGELINA[0])
    await api.ok(VERIFY, b=b64(ANGELINA[1]))
    await api.error('mutation { deletePerson(id: "5f1d0000-0000-4000-8000-000000000000") { id } }')
    found = await scrape(api, api.headers)
    assert found[("faceid_graphql_operation_seconds_count", (("operation", "verifyLinear"), ("result", "OK")))] >= 1
    assert (
        found[("faceid_graphql_operation_seconds_count", (("operation", "deletePerson"), ("result", "NOT_FOUND")))] >= 1
    )
    assert found[("faceid_graphql_errors_total", (("code", "NOT_FOUND"),))] >= 1
    assert found[("faceid_stage_seconds_count", (("stage", "detect"),))] >= 2  # the enrolment's and the probe's
    assert found[("faceid_stage_seconds_count", (("stage", "search"),))] >= 1
    counts = await api.ok("{ collections { id name faceCount personCount } }")
    default = next(c for c in counts["collections"] if c["id"] == str(DEFAULT_COLLECTION_ID))
    labels = (("collection", default["id"]), ("name", "default"))
    assert found[("faceid_collection_faces", labels)] == default["faceCount"] >= 1
    assert found[("faceid_collection_persons", labels)] == default["personCount"]
    assert found[("faceid_searchable_faces", (("model", api.services.model_id),))] == await api.services.search.size()
    assert found[("faceid_pending_photos", ())] == 0
    assert found[("faceid_live_streams", ())] == 0
    assert found[("process_resident_memory_bytes", ())] > 50e6
