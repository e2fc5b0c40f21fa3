"""Policy and privacy: how far a match may reach, what a delete leaves behind, and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import devdata
from auth import audit
from models import AuditEntry
from tests.helpers import ANGELINA, COUPLE, b64

VERIFY = """query($b: String!) { verifyLinear(image: {base64: $b}, limit: 10) {
    match best { distance } candidates { distance person { name } } } }"""
CREATE_FACE = "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }"


@pytest.fixture(scope="module")
async def celebrities(api) -> dict[str, str]:
    return await api.enrol_celebrities(2)


async def test_strangers_beyond_max_threshold_are_not_shown_without_biometrics(api, celebrities):
    ceiling = api.services.model().thresholds.maximum
    calibration = api.services.model().thresholds.calibration
    assert calibration is not None and calibration.false_match_rate(ceiling) <= 0.0101  # FAR 1 %
    stranger = ANGELINA[0]  # not enrolled here

    everyone = (await api.ok(VERIFY, b=b64(stranger)))["verifyLinear"]  # admin: BIOMETRICS
    assert any(c["distance"] > ceiling for c in everyone["candidates"])

    gate = api.as_key(await api.new_key("VERIFY"))
    limited = (await gate.ok(VERIFY, b=b64(stranger)))["verifyLinear"]
    assert all(c["distance"] <= ceiling for c in limited["candidates"])
    assert limited["match"] is False
    assert len(limited["candidates"]) < len(everyone["candidates"])

    # An enrolled person is still found by the same key.
    photo = devdata.celebrity_photos("val")["madonna"][0]
    found = (await gate.ok(VERIFY, b=b64(photo)))["verifyLinear"]
    assert found["match"] is True and found["candidates"][0]["person"]["name"] == "madonna"


async def test_a_false_match_rate_looser_than_the_ceiling_is_capped(api, celebrities):
    data = await api.ok(
        "query($b: String!) { verifyLinear(image: {base64: $b}, maxFalseMatchRate: 0.5) { threshold } }",
        b=b64(ANGELINA[1]),
    )
    assert data["verifyLinear"]["threshold"] == pytest.approx(api.services.model().thresholds.maximum)


async def test_the_audit_log_records_writes_and_verifications(api, celebrities):
    worker = await api.new_key("ENROL", "VERIFY", name="audited worker")
    client = api.as_key(worker)
    person = await client.create_person("Audited")
    face = (await client.ok(CREATE_FACE, p=person, b=b64(ANGELINA[1])))["createFace"]["id"]
    failed = await client.error(CREATE_FACE, p=person, b=b64(COUPLE)[:100])  # a truncated photo
    await client.ok(VERIFY, b=b64(ANGELINA[2]))
    denied = await client.error("mutation($id: ID!) { deletePerson(id: $id) { id } }", id=person)
    assert denied["extensions"]["code"] == "FORBIDDEN"

    keys = {k["name"]: k["id"] for k in (await api.ok("{ apiKeys { id name } }"))["apiKeys"]}
    log = await api.ok(
        """query($k: ID!) { auditLog(keyId: $k, first: 10) {
             totalCount edges { node { keyId keyName operation targets result detail at } } } }""",
        k=keys["audited worker"],
    )
    entries = [edge["node"] for edge in log["auditLog"]["edges"]]
    assert [(e["operation"], e["result"]) for e in entries] == [
        ("createPerson", "OK"),
        ("createFace", "OK"),
        ("createFace", failed["extensions"]["code"]),
        ("verifyLinear", "OK"),
        ("deletePerson", "FORBIDDEN"),
    ]
    assert all(e["keyName"] == "audited worker" and e["keyId"] == keys["audited worker"] for e in entries)
    assert entries[0]["targets"] == [person]
    assert entries[1]["targets"] == [person, face]
    assert entries[3]["targets"] == [person] and entries[3]["detail"] == "match"

    # Paged, and filtered by operation.
    page = await api.ok("{ auditLog(first: 2) { edges { cursor } pageInfo { hasNextPage endCursor } } }")
    assert page["auditLog"]["pageInfo"]["hasNextPage"] is True
    creates = await api.ok('{ auditLog(operation: "createFace", first: 100) { edges { node { operation } } } }')
    assert {e["node"]["operation"] for e in creates["auditLog"]["edges"]} == {"createFace"}
    # Reads are not audited; only ADMIN reads the log.
    assert (await client.error("{ auditLog { totalCount } }"))["extensions"]["code"] == "FORBIDDEN"


async def test_audit_entries_past_retention_are_purged(api):
    old = await AuditEntry.create(key_name="old", operation="deletePerson", targets=[], result="OK")
    await AuditEntry.filter(id=old.id).update(created_at=datetime.now(UTC) - timedelta(days=91))
    recent = await AuditEntry.create(key_name="recent", operation="deletePerson", targets=[], result="OK")
    assert await audit.purge(api.services.settings.audit_retention_days) >= 1
    assert not await AuditEntry.filter(id=old.id).exists()
    assert await AuditEntry.filter(id=recent.id).exists()
