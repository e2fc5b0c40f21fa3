"""The Starlette application: GraphQL at /graphql (GraphiQL on GET), and the endpoints beside it.

Run it with `python app.py` (or `make run`); HOST, PORT, DATABASE_URL, DATA_DIR and
the other settings in settings.py come from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from asgi_correlation_id import CorrelationIdMiddleware
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from auth import audit, keys
from auth.audit import clipped
from ml.pipeline import FacePipeline
from models import adopt_models, database_config, upgrade_sqlite
from models.migrate import NotMigrated, check_migrated
from resolvers import liveness
from resolvers.jobs import JobRunner, start_jobs
from schema.root import schema
from services import Services, build_engine, build_pipelines, build_searches
from settings import ENV_FILE, Settings, SettingsError
from telemetry import REQUEST_ID_HEADER, log_handler, valid_request_id
from web import routes
from web.answers import error_response
from web.graphql import FaceGraphQL
from web.middleware import ANONYMOUS_BODY_MAX, HostCheck, RequestLimits
from web.protocol import header_deadline_protocol
from web.static import CONSOLE_LIBRARIES, GRAPHIQL_FILES, ConsoleFiles

log = logging.getLogger("faceid")

AUDIT_PURGE_INTERVAL_S = 3600.0
GZIP_MIN_BYTES = 1024  # a smaller answer gains too little from compression to pay for it
PRIVATE_UMASK = 0o077  # what the server writes (DATA_DIR, the database, its WAL and SHM) only its user reads


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own 404 and 405 (no such route, wrong method) as JSON with a code, like every other error."""
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, headers=dict(exc.headers or {}))


async def purge_old_rows(retention_days: int) -> None:
    """Delete audit entries past their retention and expired liveness sessions, now and every hour."""
    while True:
        try:
            await audit.purge(retention_days)
            await liveness.purge_expired()
        except Exception:
            log.exception("could not purge the audit log or the liveness sessions")
        await asyncio.sleep(AUDIT_PURGE_INTERVAL_S)


def create_app(settings: Settings | None = None, pipelines: list[FacePipeline] | None = None) -> Starlette:
    """The application; `pipelines` (the default model's first) let tests and benchmarks reuse loaded models."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        os.umask(PRIVATE_UMASK)  # embeddings and crops are biometric data: no other local user reads them
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            settings.data_dir.chmod(0o700)  # a DATA_DIR made before this rule (0755) is closed too
        # SQLite: the server makes and upgrades its own file. PostgreSQL: `make migrate` does, and we check.
        config = database_config(settings.resolved_database_url)
        # generate_schemas is upgrade_sqlite's: an older file's tables are altered first, then the rest made.
        async with RegisterTortoise(app, config=config, generate_schemas=False):
            if settings.on_postgres:
                try:
                    await check_migrated()
                except NotMigrated as exc:
                    log.error("%s", exc)
                    raise
            else:
                await upgrade_sqlite()
            await keys.bootstrap(settings)
            purger = asyncio.create_task(purge_old_rows(settings.audit_retention_days))
            started = time.perf_counter()
            loaded = await asyncio.to_thread(build_pipelines, settings) if pipelines is None else pipelines
            face_engine = build_engine(settings, loaded)
            await adopt_models(face_engine.models)
            await face_engine.start()
            models_ready = time.perf_counter()
            search = build_searches(settings, face_engine)
            jobs: JobRunner | None = None
            try:
                await search.start()
                app.state.startup_s = {
                    "models": round(models_ready - started, 3),
                    "gallery": round(time.perf_counter() - models_ready, 3),
                }
                app.state.services = services = Services(settings, face_engine, search)
                services.start_calibrations()
                jobs = await start_jobs(services)
                log.info(
                    "ready: %s, %d faces, %s search", ", ".join(face_engine.models), await search.size(), search.name
                )
                for files in [CONSOLE_LIBRARIES, *([GRAPHIQL_FILES] if settings.graphiql else [])]:
                    if missing := files.missing():
                        log.warning(
                            "%s files are not installed (%s): run `make install`", files.what, ", ".join(missing)
                        )
                if settings.auth == "off":
                    log.warning("AUTH=off: no API key is checked; anyone who reaches the port is an admin")
                yield
            finally:
                if jobs is not None:
                    await jobs.close()
                if (running := getattr(app.state, "services", None)) is not None:
                    await running.close_calibrations()
                app.state.services = None
                await audit.flush_anonymous()
                await search.close()
                purger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purger
                await face_engine.close()

    graphql = FaceGraphQL(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=False,  # a cross-site <img> or link must not run a verification
        multipart_uploads_enabled=True,
        max_response_bytes=settings.max_response_bytes,
    )
    # Room for one image sent as base64 (4/3 of its size) plus the query around it.
    max_body = settings.max_image_bytes * 4 // 3 + 1024 * 1024
    middleware = [
        # Outermost: every answer, refusals at the edge included, carries the request's id.
        Middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER, validator=valid_request_id),
        # JSON answers and the browser files (GraphiQL's 3.5 MB script) shrink to a fifth or less. Streamed
        # answers are flushed chunk by chunk; JPEG crops are left alone. No BREACH-style risk: a secret in an
        # answer (a new key) never shares it with text a third party chose and sent with the caller's key.
        Middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=6),
        Middleware(HostCheck, allowed_hosts=list(settings.allowed_hosts)),  # DNS rebinding
        Middleware(
            RequestLimits,
            max_bytes=max_body,
            body_timeout_s=settings.body_timeout_s,
            request_timeout_s=settings.request_timeout_s,
            anonymous_max_bytes=None if settings.auth == "off" else ANONYMOUS_BODY_MAX,
        ),
    ]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
                expose_headers=[REQUEST_ID_HEADER],
            ),
        )
    return Starlette(
        routes=[
            Route("/", lambda request: RedirectResponse("/console/")),  # where a person with a browser starts
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),  # subscriptions: graphql-transport-ws
            Route("/livez", routes.livez),  # the process answers
            Route("/readyz", routes.readyz),  # send it traffic: models loaded, database and followers in step
            Route("/healthz", routes.healthz),  # ready, with what it runs (model, detector, faces)
            Route("/metrics", routes.metrics, methods=["GET", "DELETE"]),
            Route("/faces/{face_id}/crop.jpg", routes.crop, name="face_crop"),
            Route("/graphiql/{name}", GRAPHIQL_FILES.endpoint),
            Route("/console/vendor/{name}", CONSOLE_LIBRARIES.endpoint),
            Mount("/console", ConsoleFiles(), name="console"),
        ],
        middleware=middleware,
        exception_handlers={404: http_error, 405: http_error},
        lifespan=lifespan,
    )


class ClippedValues(logging.Filter):
    """No log line carries more than TEXT_MAX characters of any one value (a 1 MB search, a huge id)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(clipped(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def port_taken(host: str, port: int) -> str | None:
    """Why the port cannot be listened on (in use, not allowed), found before minutes of model loading; None if free.

    uvicorn binds only after the lifespan has loaded the models. SO_REUSEADDR as uvicorn sets it, so that a port
    left in TIME_WAIT by the server just stopped is free here too.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def main() -> None:
    """`python app.py` (make run); `uvicorn app:create_app --factory` serves the same app."""
    try:
        settings = Settings.from_env(env_file=ENV_FILE)
    except SettingsError as exc:
        raise SystemExit(f"faceid: {exc}") from None
    if (taken := port_taken(settings.host, settings.port)) is not None:
        raise SystemExit(f"faceid: cannot listen on {settings.host}:{settings.port} ({taken}); set PORT or HOST")
    handler = log_handler(settings.log_format)
    handler.addFilter(ClippedValues())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    if settings.host not in ("127.0.0.1", "localhost", "::1") and "*" not in settings.allowed_hosts:
        log.warning(
            "HOST=%s listens beyond this machine, but only these host names are answered: %s. Add the names "
            "clients use to ALLOWED_HOSTS (comma-separated).",
            settings.host,
            ", ".join(settings.allowed_hosts),
        )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        http=header_deadline_protocol(settings.header_timeout_s),
        log_config=None,  # uvicorn's own loggers go to the root's handler: one format, request ids included
    )


if __name__ == "__main__":
    main()
