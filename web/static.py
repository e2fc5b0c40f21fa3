"""The files browsers load from this server, never from a CDN: GraphiQL's and the web console's.

Libraries come from npm at `make install` (each folder's package.json and lock file);
`NpmFiles` serves the few a page asks for, by the name it asks for. The console's own
page (console/app) is served as static files with a content security policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from errors import http_error_body

ROOT = Path(__file__).resolve().parent.parent  # the project: graphiql/ and console/ beside web/
GRAPHIQL_DIR = ROOT / "graphiql"  # index.html, and node_modules from `npm ci`
CONSOLE_DIR = ROOT / "console"  # app/ (the page), and node_modules from `npm ci`
LIBRARY_CACHE = "public, max-age=86400"
# The console loads nothing from elsewhere, and no page elsewhere may frame it.
CONSOLE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
    "connect-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True)
class NpmFiles:
    """Files of one npm install that a page loads, by the name it asks for (GET <prefix>/{name})."""

    what: str  # for messages: whose files these are
    node_modules: Path
    files: dict[str, str]  # the name asked for -> its path under node_modules

    def path(self, name: str) -> Path | None:
        """The file behind `name`, if it is one of these and installed."""
        relative = self.files.get(name)
        path = None if relative is None else self.node_modules / relative
        return path if path is not None and path.is_file() else None

    def missing(self) -> list[str]:
        """The files that are not installed (run `make install`)."""
        return [name for name in self.files if self.path(name) is None]

    async def endpoint(self, request: Request) -> Response:
        path = self.path(request.path_params["name"])
        if path is None:
            message = f"no such {self.what} file (is it installed? run `make install`)"
            return JSONResponse(http_error_body(404, message), status_code=404)
        return FileResponse(path, headers={"Cache-Control": LIBRARY_CACHE})


GRAPHIQL_FILES = NpmFiles(
    "GraphiQL",
    GRAPHIQL_DIR / "node_modules",
    {
        "react.production.min.js": "react/umd/react.production.min.js",
        "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
        "graphiql.min.js": "graphiql/graphiql.min.js",
        "graphiql.min.css": "graphiql/graphiql.min.css",
        "explorer.umd.js": "@graphiql/plugin-explorer/dist/index.umd.js",
        "explorer.css": "@graphiql/plugin-explorer/dist/style.css",
    },
)
CONSOLE_LIBRARIES = NpmFiles(
    "console", CONSOLE_DIR / "node_modules", {"graphql-ws.js": "graphql-ws/umd/graphql-ws.min.js"}
)


class ConsoleFiles(StaticFiles):
    """The console's own files (console/app), with a content security policy."""

    def __init__(self) -> None:
        super().__init__(directory=CONSOLE_DIR / "app", html=True)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = CONSOLE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
