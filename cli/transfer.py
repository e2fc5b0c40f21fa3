"""Bulk work over the API: import a folder of photos, export a gallery to a file, restore it."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cli.client import Client, GraphQLFailure

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
EXPORT_FORMAT = 1
PAGE = 100  # items per page when reading a gallery (faces carry a crop and an embedding each)

PERSON_FIELDS = "id name externalId metadata createdAt updatedAt"
FACE_FIELDS = """id personId model detector detectionScore createdAt imageSha256 cropJpegBase64 embedding
    box { x y width height } quality { interEyePx sharpness yawDeg rollDeg detectionScore }"""


def progress(console: Console) -> Progress:
    """A bar with count, rate and time left."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


@dataclass
class ImportReport:
    persons_created: int = 0
    enrolled: int = 0
    skipped: int = 0  # already enrolled (same image bytes)
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # per failure code: a file, and the server's words
    folders: int = 0  # person folders with photos
    seconds: float = 0.0


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _person_for(client: Client, folder: str, collection: str | None, report: ImportReport) -> tuple[str, set[str]]:
    """The person of the collection whose externalId is the folder's name (created if missing), and its photos'
    hashes."""
    found = client.execute(
        "query($s: String!, $c: ID) { persons(search: $s, first: 500, collection: $c) "
        "{ edges { node { id externalId } } } }",
        s=folder,
        c=collection,
    )
    for edge in found["persons"]["edges"]:
        if edge["node"]["externalId"] == folder:
            person_id = edge["node"]["id"]
            faces = client.execute("query($p: ID!) { facesByPerson(personId: $p) { imageSha256 } }", p=person_id)
            return person_id, {face["imageSha256"] for face in faces["facesByPerson"]}
    created = client.execute(
        "mutation($i: PersonInput!, $c: ID) { createPerson(input: $i, collection: $c) { id } }",
        i={"name": folder.replace("_", " "), "externalId": folder},
        c=collection,
    )
    report.persons_created += 1
    return created["createPerson"]["id"], set()


def import_folder(
    client: Client, root: Path, workers: int, allow_low_quality: bool, console: Console, collection: str | None = None
) -> ImportReport:
    """Enrol root/<person>/<photo> for every person folder into the collection (None: the key's default);
    photos already enrolled are skipped."""
    report = ImportReport()
    started = time.perf_counter()
    tasks: list[tuple[str, Path]] = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if not photos:
            continue
        report.folders += 1
        person_id, known = _person_for(client, folder.name, collection, report)
        for photo in photos:
            if sha256_of(photo) in known:
                report.skipped += 1
            else:
                tasks.append((person_id, photo))
    query = (
        "mutation($p: ID!, $file: Upload!, $low: Boolean!) "
        "{ createFace(personId: $p, image: {upload: $file}, allowLowQuality: $low) { id } }"
    )
    with progress(console) as bar, ThreadPoolExecutor(workers) as pool:
        task = bar.add_task("enrolling", total=len(tasks), rate="")
        futures = {
            pool.submit(client.upload, query, photo, p=person, low=allow_low_quality): photo for person, photo in tasks
        }
        for done, future in enumerate(as_completed(futures), start=1):
            try:
                future.result()
                report.enrolled += 1
            except GraphQLFailure as failure:
                report.failures[failure.code] += 1
                report.examples.setdefault(failure.code, f"{futures[future]}: {failure}")
            elapsed = time.perf_counter() - started
            bar.update(task, advance=1, rate=f"{done / elapsed:.1f} photos/s" if elapsed else "")
    report.seconds = time.perf_counter() - started
    return report


def _pages(client: Client, field_name: str, fields: str, collection: str | None) -> Iterator[dict[str, Any]]:
    after = None
    while True:
        data = client.execute(
            f"query($a: String, $n: Int, $c: ID) {{ {field_name}(first: $n, after: $a, collection: $c) "
            f"{{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {fields} }} }} }} }}",
            a=after,
            n=PAGE,
            c=collection,
        )[field_name]
        yield from (edge["node"] for edge in data["edges"])
        if not data["pageInfo"]["hasNextPage"]:
            return
        after = data["pageInfo"]["endCursor"]


def export_gallery(client: Client, target: Path, collection: str | None = None) -> tuple[int, int]:
    """Every person and face of the collection (embedding and crop included) as JSON lines; (persons, faces)
    written."""
    model = client.execute("{ model { name dimension } }")["model"]
    persons = faces = 0
    # Embeddings and crops are biometric data: the file is its owner's alone (0600), even if it existed.
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as out:
        header = {"faceidExport": EXPORT_FORMAT, "model": model["name"], "dimension": model["dimension"]}
        out.write(json.dumps(header) + "\n")
        for person in _pages(client, "persons", PERSON_FIELDS, collection):
            out.write(json.dumps({"person": person}, sort_keys=True) + "\n")
            persons += 1
        for face in _pages(client, "faces", FACE_FIELDS, collection):
            out.write(json.dumps({"face": face}, sort_keys=True) + "\n")
            faces += 1
    return persons, faces


@dataclass(frozen=True)
class RestoreReport:
    persons: int  # in the file
    faces: int
    new_persons: int  # not in the collection before
    new_faces: int


COUNTS = (
    "query($c: ID) { persons(first: 1, collection: $c) { totalCount } faces(first: 1, collection: $c) { totalCount } }"
)


def _counts(client: Client, collection: str | None) -> tuple[int, int]:
    data = client.execute(COUNTS, c=collection)
    return data["persons"]["totalCount"], data["faces"]["totalCount"]


def restore_gallery(client: Client, source: Path, console: Console, collection: str | None = None) -> RestoreReport:
    """Put an export's persons and faces back into the collection, ids and times included (rows already there are
    left as they are)."""
    lines = source.read_text().splitlines()
    header = json.loads(lines[0]) if lines else {}
    if header.get("faceidExport") != EXPORT_FORMAT:
        raise GraphQLFailure(f"{source} is not a faceid export (format {EXPORT_FORMAT})", "BAD_FILE")
    records = [json.loads(line) for line in lines[1:] if line.strip()]
    persons = [record["person"] for record in records if "person" in record]
    faces = [record["face"] for record in records if "face" in record]
    persons_before, faces_before = _counts(client, collection)
    with progress(console) as bar:
        task = bar.add_task("restoring", total=len(persons) + len(faces), rate="")
        for person in persons:
            client.execute(
                "mutation($i: RestoredPerson!, $c: ID) { restorePerson(input: $i, collection: $c) { id } }",
                i=person,
                c=collection,
            )
            bar.update(task, advance=1)
        for face in faces:
            client.execute("mutation($i: RestoredFace!) { restoreFace(input: $i) { id } }", i=face)
            bar.update(task, advance=1)
    persons_after, faces_after = _counts(client, collection)
    return RestoreReport(len(persons), len(faces), persons_after - persons_before, faces_after - faces_before)


@dataclass
class ReembedReport:
    model: str = ""
    reembedded: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # face id -> why
    seconds: float = 0.0


REEMBED = """mutation($after: ID, $limit: Int!) {
  reembedFaces(after: $after, limit: $limit) { model faceIds skipped { faceId reason } lastId remaining }
}"""


def reembed_gallery(client: Client, batch: int, console: Console) -> ReembedReport:
    """Walk every face of another model through reembedFaces, `batch` a call, until none is left."""
    report, after, started = ReembedReport(), None, time.perf_counter()
    with progress(console) as bar:
        task = bar.add_task("re-embedding", total=None, rate="")
        while True:
            answer = client.execute(REEMBED, after=after, limit=batch)["reembedFaces"]
            report.model = answer["model"]
            report.reembedded += len(answer["faceIds"])
            report.skipped.update({s["faceId"]: s["reason"] for s in answer["skipped"]})
            done = report.reembedded + len(report.skipped)
            rate = done / (time.perf_counter() - started)
            bar.update(task, completed=done, total=done + answer["remaining"], rate=f"{rate:.1f} faces/s")
            after = answer["lastId"]
            if answer["remaining"] == 0 or after is None:
                break
    report.seconds = time.perf_counter() - started
    return report


REEMBED_COLLECTION = "mutation($id: ID!, $m: String!) { reembedCollection(id: $id, model: $m) { id } }"
JOB = """query($id: ID!) {
  job(id: $id) { state total done skippedCount skipped { faceId reason } error toModel }
}"""
JOB_POLL_S = 1.0


def start_reembedding(client: Client, collection: str, model: str) -> str:
    """Start reembedCollection; the job's id."""
    return str(client.execute(REEMBED_COLLECTION, id=collection, m=model)["reembedCollection"]["id"])


def follow_job(client: Client, job_id: str, console: Console) -> dict[str, Any]:
    """Show the job's progress until it has finished; its last state. Stopping this stops nothing on the server."""
    with progress(console) as bar:
        task = bar.add_task("re-embedding", total=None, rate="")
        while True:
            job = client.execute(JOB, id=job_id)["job"]
            if job is None:
                raise GraphQLFailure(f"job {job_id} is gone (its collection was deleted?)", "NOT_FOUND")
            handled = job["done"] + job["skippedCount"]
            bar.update(task, completed=handled, total=job["total"], rate=f"{job['skippedCount']} skipped")
            if job["state"] != "RUNNING":
                return dict(job)
            time.sleep(JOB_POLL_S)
