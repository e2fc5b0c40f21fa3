"""The plain HTTP endpoints beside GraphQL: /livez, /readyz, /healthz, /metrics, face crops by URL (browser files:
web.static)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth import keys
from auth.access import require, sees_every_collection
from auth.scopes import Principal, Scope
from errors import ApiError, ErrorCode, error_headers
from models import unreachable
from resolvers.collections import CollectionCounts, collection_counts
from resolvers.faces import face_crop
from services import Services
from telemetry import PROMETHEUS_TEXT
from web.answers import error_response
from web.graphql import ready_services

CROP_CACHE = "private, max-age=3600"  # a crop changes only when updateFace replaces the photo (new ETag)
# The answer depends on the key: a shared cache must not give one caller's crop to another.
CROP_VARY = "Authorization, X-API-Key"


def resident_mb() -> float | None:
    """This process's resident memory in MB (Linux's /proc; None elsewhere): a replica's real footprint."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return None if line is None else round(int(line.split()[1]) / 1024, 1)


def starting() -> JSONResponse:
    return JSONResponse({"status": "starting"}, status_code=503, headers=error_headers(503))


async def _caller(request: Request, scope: Scope) -> Principal | JSONResponse:
    """The request's key if it holds `scope`; else the 401 or 403 to answer."""
    services = ready_services(request)
    assert services is not None
    try:
        return require(await keys.authenticate(request.headers, services.settings), scope)
    except keys.InvalidKey:
        return error_response(401, "the API key is unknown or revoked")
    except ApiError as exc:
        status = 401 if exc.code == ErrorCode.UNAUTHENTICATED else 403
        return error_response(status, exc.message, exc.code)


READY_DATABASE_TIMEOUT_S = 2.0  # /readyz: a database slower than this to answer `SELECT 1` is not ready


async def livez(request: Request) -> JSONResponse:
    """The process answers (a restart is the cure when it does not): 200 even while the models load."""
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> JSONResponse:
    """Whether to send this replica traffic: the models loaded, the database reachable, every in-memory copy
    following it; 503 with the reason otherwise (a load balancer waits, nothing restarts)."""
    services = ready_services(request)
    if services is None:
        return starting()
    reason = await unreachable(READY_DATABASE_TIMEOUT_S) or services.search.lagging()
    if reason is not None:
        return JSONResponse({"status": "unready", "reason": reason}, status_code=503, headers=error_headers(503))
    return JSONResponse({"status": "ready"})


async def healthz(request: Request) -> JSONResponse:
    services = ready_services(request)
    if services is None:
        return starting()
    return JSONResponse(
        {
            "status": "ok",
            "auth": services.settings.auth,  # "off" means anyone may read and delete everything
            "model": services.model_id,  # the default; every loaded one is in `models`
            "models": list(services.models),
            "embedder": services.model().spec.key,
            "dimension": services.model().spec.dimension,
            "detector": services.engine.pipeline.detector.name,
            "detector_device": services.engine.pipeline.detector.device,
            "runtime": services.engine.pipeline.embedder.runtime,  # the embedder's: litert, tensorflow or opencv
            "device": services.engine.pipeline.embedder.device,
            "faces": await services.search.size(),
            "search": services.search.name,
            "startup_s": request.app.state.startup_s,
        }
    )


async def metrics(request: Request) -> Response:
    """GET: the Prometheus text format (telemetry.py), or with `Accept: application/json` the stage percentiles
    and gauges the benchmarks read; DELETE: those percentiles start again.

    Scope: ADMIN bound to no collection (the figures span every tenant), or METRICS_TOKEN.
    """
    services = ready_services(request)
    if services is None:
        return starting()
    caller: Principal | JSONResponse = keys.METRICS_READER
    if request.method == "DELETE" or not keys.is_metrics_token(request.headers, services.settings.metrics_token):
        caller = await _caller(request, Scope.ADMIN)
    if isinstance(caller, JSONResponse):
        return caller
    if not sees_every_collection(caller):  # the server's figures span every tenant
        return error_response(
            403, "/metrics is the operator's: a key bound to collections may not read it", ErrorCode.FORBIDDEN
        )
    stats = services.engine.stats
    if request.method == "DELETE":
        stats.reset()
    counts = await collection_counts(caller)
    if "application/json" not in request.headers.get("accept", ""):
        await _set_levels(services, counts)
        return Response(services.telemetry.exposition(), media_type=PROMETHEUS_TEXT)
    return JSONResponse(
        {
            "stages": stats.snapshot(),
            "pending": services.engine.pending,
            "gallery_faces": await services.search.size(),
            "collections": counts,
            "gallery_bytes": services.search.memory_bytes,  # the in-memory matrix, spare rows included
            "live_streams": services.live_slots.open,
            "rss_mb": resident_mb(),
        }
    )


async def _set_levels(services: Services, counts: dict[str, CollectionCounts]) -> None:
    """The gauges, read from the services as the scraper asks."""
    telemetry = services.telemetry
    telemetry.pending.set(services.engine.pending)
    telemetry.live_streams.set(services.live_slots.open)
    telemetry.search_bytes.set(services.search.memory_bytes)
    for model in services.models.values():
        telemetry.searchable.labels(model.id).set(await model.search.size())
    for model_id, state in services.search.replication().items():
        telemetry.follower_connected.labels(model_id).set(int(state.connected))
        telemetry.follower_backlog.labels(model_id).set(state.backlog)
        telemetry.follower_loads.labels(model_id).set(state.loads)
    telemetry.faces.clear()  # a deleted collection's series goes with it
    telemetry.persons.clear()
    for collection_id, row in counts.items():
        telemetry.faces.labels(collection_id, row["name"]).set(row["faces"])
        telemetry.persons.labels(collection_id, row["name"]).set(row["persons"])


async def crop(request: Request) -> Response:
    """GET /faces/{id}/crop.jpg: the face crop as a JPEG, with an ETag. Scope: BIOMETRICS (as cropJpegBase64)."""
    if ready_services(request) is None:
        return starting()
    caller = await _caller(request, Scope.BIOMETRICS)
    if isinstance(caller, JSONResponse):
        return caller
    try:
        found = await face_crop(caller, request.path_params["face_id"])
    except ApiError as exc:
        return error_response(400, exc.message, exc.code)
    if found is None:
        return error_response(404, "no stored crop for this face")
    jpeg, etag = found
    headers = {"ETag": f'"{etag}"', "Cache-Control": CROP_CACHE, "Vary": CROP_VARY}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(jpeg, media_type="image/jpeg", headers=headers)
