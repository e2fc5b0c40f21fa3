"""The Starlette application: GraphQL at /graphql (GraphiQL on GET) and /healthz.

Run it with `python app.py` (or `make run`); HOST, PORT, DATABASE_URL, DATA_DIR and
the other settings in settings.py come from the environment.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from tortoise.contrib.starlette import RegisterTortoise

from middleware import BodySizeLimit
from ml.pipeline import FacePipeline
from models import add_missing_columns, database_config
from resolvers.context import Context
from schema.root import schema
from services import Services, build_engine, build_pipeline, load_gallery
from settings import Settings, SettingsError

log = logging.getLogger("faceid")


class FaceGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services = ready_services(request)
        if services is None:  # the lifespan has not loaded the models yet, or is shutting down
            raise HTTPException(503, "starting")
        return Context(services=services, request=request, response=response)


def starting() -> JSONResponse:
    return JSONResponse({"status": "starting"}, status_code=503)


def ready_services(request: Request | WebSocket) -> Services | None:
    """The services once the lifespan has loaded them; None while starting or stopping."""
    return getattr(request.app.state, "services", None)


async def healthz(request: Request) -> JSONResponse:
    services = ready_services(request)
    if services is None:
        return starting()
    return JSONResponse(
        {
            "status": "ok",
            "model": services.model_id,
            "embedder": services.spec.key,
            "dimension": services.spec.dimension,
            "detector": services.engine.pipeline.detector.name,
            "device": services.engine.pipeline.embedder.device,
            "faces": len(services.gallery),
            "startup_s": request.app.state.startup_s,
        }
    )


async def metrics(request: Request) -> JSONResponse:
    """Stage timings (detect, embed, search, busy) and gauges, for operators and benchmarks."""
    services = ready_services(request)
    if services is None:
        return starting()
    stats = services.engine.stats
    if request.method == "DELETE":
        stats.reset()
    return JSONResponse(
        {
            "stages": stats.snapshot(),
            "pending": services.engine.pending,
            "gallery_faces": len(services.gallery),
            "gallery_bytes": services.gallery.nbytes,  # the matrix, spare rows included
        }
    )


def create_app(settings: Settings | None = None, pipeline: FacePipeline | None = None) -> Starlette:
    """The application; `pipeline` lets tests and benchmarks reuse loaded models."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with RegisterTortoise(app, config=database_config(settings.resolved_database_url), generate_schemas=True):
            await add_missing_columns()
            started = time.perf_counter()
            loaded = pipeline if pipeline is not None else await asyncio.to_thread(build_pipeline, settings)
            face_engine = build_engine(settings, loaded)
            await face_engine.start()
            models_ready = time.perf_counter()
            try:
                gallery = await load_gallery(face_engine.pipeline.model_id, face_engine.pipeline.spec.dimension)
                app.state.startup_s = {
                    "models": round(models_ready - started, 3),
                    "gallery": round(time.perf_counter() - models_ready, 3),
                }
                app.state.services = Services(settings, face_engine, gallery)
                log.info("ready: %s, %d faces", face_engine.pipeline.model_id, len(gallery))
                yield
            finally:
                app.state.services = None
                await face_engine.close()

    graphql = FaceGraphQL(schema, graphql_ide="graphiql", multipart_uploads_enabled=True)
    # Room for one image sent as base64 (4/3 of its size) plus the query around it.
    max_body = settings.max_image_bytes * 4 // 3 + 1024 * 1024
    middleware = [Middleware(BodySizeLimit, max_bytes=max_body)]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
            ),
        )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/metrics", metrics, methods=["GET", "DELETE"]),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )


def main() -> None:
    """`python app.py` (make run); `uvicorn app:create_app --factory` serves the same app."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"faceid: {exc}") from None
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
