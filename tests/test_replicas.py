"""Replicas on one PostgreSQL database see each other's changes: three real server processes.

A and B search in memory (each follows the other's commits through LISTEN/NOTIFY),
C searches in PostgreSQL (pgvector). A change through one replica must be seen by
the others within 1 s, and no stale answer may follow. The checks search by a
fixed embedding (searchByEmbedding), so that each takes milliseconds and the time
measured is the replica's, not the models'.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

import devdata
from devdata.postgres import LocalPostgres
from tests.helpers import ADMIN_KEY, ANGELINA, b64, migrated_database
from tests.server import Server, running_server

VISIBLE_WITHIN_S = 1.0
STALE_CHECKS = 5  # answers checked after the change was first seen

SEARCH = """query($v: [Float!]!, $m: String!, $exact: Boolean!) {
  searchByEmbedding(vector: $v, model: $m, exact: $exact) { match best { person { id } } }
}"""
MOVE = "mutation($id: ID!, $p: ID!) { updateFace(id: $id, personId: $p) { id } }"
REPLACE = "mutation($id: ID!, $b: String!) { updateFace(id: $id, image: {base64: $b}) { id } }"
DELETE_PERSON = "mutation($id: ID!) { deletePerson(id: $id) { id } }"
OTHER_PERSON = devdata.celebrity_photos("train")["madonna"][0]


@pytest.fixture(scope="module")
def database(postgres: LocalPostgres) -> str:
    """The replicas' database: its name."""
    return migrated_database(postgres).rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def replicas(
    postgres: LocalPostgres, database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Server]]:
    common = {"DATABASE_URL": postgres.url(database), "ADMIN_API_KEY": ADMIN_KEY}
    root = tmp_path_factory.mktemp("replicas")
    with (
        running_server(root / "a", **common) as a,
        running_server(root / "b", **common) as b,
        running_server(root / "c", **common, SEARCH_BACKEND="pgvector", HNSW_MIN_FACES="0") as c,  # HNSW at any size
    ):
        yield {"a": a, "b": b, "c": c}


def ok(server: Server, query: str, **variables: object) -> dict:
    body = server.graphql(query, **variables)
    assert "errors" not in body, body
    return body["data"]


def create_person(server: Server, name: str) -> str:
    data = ok(server, "mutation($n: String!) { createPerson(input: {name: $n}) { id } }", n=name)
    return data["createPerson"]["id"]


def enrol(server: Server, person: str, photo: Path) -> str:
    data = ok(
        server,
        "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }",
        p=person,
        b=b64(photo),
    )
    return data["createFace"]["id"]


def seen_within(check: Callable[[], bool]) -> float:
    """Seconds until `check` holds (asserting it does within VISIBLE_WITHIN_S), then that it keeps holding."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < VISIBLE_WITHIN_S, "the change was not seen in time"
        time.sleep(0.02)
    seen = time.monotonic() - started
    for _ in range(STALE_CHECKS):
        assert check(), "a stale answer after the change had been seen"
    return seen


@dataclass
class Probe:
    """An embedding of ANGELINA[1], made once by a replica."""

    vector: list[float]
    model: str

    def matched_on(self, server: Server, exact: bool = True) -> str | None:
        """The id of the person this replica matches the probe with, or None."""
        result = ok(server, SEARCH, v=self.vector, m=self.model, exact=exact)["searchByEmbedding"]
        return result["best"]["person"]["id"] if result["match"] else None


@pytest.fixture(scope="module")
def probe(replicas: dict[str, Server]) -> Probe:
    a = replicas["a"]
    holder = create_person(a, "probe holder")
    face = enrol(a, holder, ANGELINA[1])
    stored = ok(a, "query($id: ID!) { faceEmbedding(faceId: $id) { vector model } }", id=face)["faceEmbedding"]
    ok(a, DELETE_PERSON, id=holder)
    probe = Probe(stored["vector"], stored["model"])
    for server in replicas.values():
        seen_within(lambda server=server: probe.matched_on(server) is None)
    return probe


@pytest.mark.parametrize(("writer", "reader"), [("a", "b"), ("b", "c"), ("c", "a")])
def test_each_change_through_one_replica_is_seen_by_another(replicas, probe, writer, reader):
    write, read = replicas[writer], replicas[reader]
    alice = create_person(write, f"Alice via {writer}")
    face = enrol(write, alice, ANGELINA[0])
    # Enrolled through one: found through the other (exactly, and through C's HNSW index too).
    seen_within(lambda: probe.matched_on(read) == alice)
    if reader == "c":
        assert probe.matched_on(read, exact=False) == alice

    # Moved to another person through one: the other names the new owner.
    bob = create_person(write, f"Bob via {writer}")
    ok(write, MOVE, id=face, p=bob)
    seen_within(lambda: probe.matched_on(read) == bob)

    # Re-embedded from someone else's photo through one: the other no longer matches.
    ok(write, REPLACE, id=face, b=b64(OTHER_PERSON))
    seen_within(lambda: probe.matched_on(read) is None)
    ok(write, REPLACE, id=face, b=b64(ANGELINA[0]))
    seen_within(lambda: probe.matched_on(read) == bob)

    # Deleted through one: the other stops matching.
    ok(write, DELETE_PERSON, id=bob)
    seen_within(lambda: probe.matched_on(read) is None)
    ok(write, DELETE_PERSON, id=alice)


def test_a_replica_that_loses_its_connection_reloads(replicas, probe, postgres, database):
    a, b = replicas["a"], replicas["b"]
    terminated = postgres.psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'faceid-gallery-follower'",
        database=database,
    )
    assert int(terminated) == 2  # A's and B's followers
    # Written while B is reconnecting: its notice is lost, the reload must bring the face.
    carol = create_person(a, "Carol")
    enrol(a, carol, ANGELINA[0])
    started = time.monotonic()
    while probe.matched_on(b) != carol:
        assert time.monotonic() - started < 10, "B did not reload after losing its connection"
        time.sleep(0.1)
    # Following again: the next change is seen within the second.
    ok(a, DELETE_PERSON, id=carol)
    seen_within(lambda: probe.matched_on(b) is None)
    # /metrics tells the reconnection: B's copy listens again, after a second full load.
    exposition = httpx.get(f"{b.url}/metrics", headers=b.headers).text
    found = {
        (s.name, s.labels.get("model")): s.value for f in text_string_to_metric_families(exposition) for s in f.samples
    }
    assert found[("faceid_follower_connected", probe.model)] == 1
    assert found[("faceid_follower_loads", probe.model)] >= 2
    assert found[("faceid_follower_backlog", probe.model)] >= 0


COLLECTION_SEARCH = """query($v: [Float!]!, $m: String!, $c: ID, $exact: Boolean! = true) {
  searchByEmbedding(vector: $v, model: $m, collection: $c, exact: $exact) { match best { person { id } } }
}"""


def matched_in(server: Server, probe: Probe, collection: str | None, exact: bool = True) -> str | None:
    found = ok(server, COLLECTION_SEARCH, v=probe.vector, m=probe.model, c=collection, exact=exact)["searchByEmbedding"]
    return found["best"]["person"]["id"] if found["match"] else None


def test_every_replica_keeps_each_collection_apart_and_in_step(replicas, probe):
    """Enrolled in a new collection through A: B and C find it there, and not in `default`; deleting the collection
    through B takes it from A's and C's answers."""
    a, b, c = replicas["a"], replicas["b"], replicas["c"]
    before = faces_held(a)
    made = ok(a, 'mutation { createCollection(input: {name: "replicated"}) { id } }')["createCollection"]["id"]
    person = ok(a, 'mutation($c: ID) { createPerson(input: {name: "Dana"}, collection: $c) { id } }', c=made)
    dana = person["createPerson"]["id"]
    enrol(a, dana, ANGELINA[0])
    for reader in (b, c):
        seen_within(lambda reader=reader: matched_in(reader, probe, made) == dana)
        assert matched_in(reader, probe, None) is None  # the default collection holds no one like her
    assert matched_in(c, probe, made, exact=False) == dana
    ok(b, "mutation($id: ID!) { deleteCollection(id: $id) { id } }", id=made)
    seen_within(lambda: faces_held(a) == before)  # A's in-memory copy let the collection's face go
    assert probe.matched_on(a) is None


def faces_held(server: Server) -> int:
    """The faces the replica's search holds, in every collection."""
    return int(httpx.get(f"{server.url}/healthz").json()["faces"])
