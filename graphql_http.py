"""The GraphQL endpoint over HTTP: who is calling, and a typed 4xx for every malformed request.

Strawberry's view answers a malformed request with plain text or, for some, a 500;
here every such answer is a GraphQL-shaped JSON body with `extensions.code`.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from auth.keys import InvalidKey, authenticate
from browser_files import GRAPHIQL_DIR
from resolvers.context import Context
from resolvers.errors import ErrorCode, http_error_body
from services import Services

# A cross-site page can send these content types without a CORS preflight; such a
# request must carry a header that a page cannot set without one.
SIMPLE_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain")
PREFLIGHT_HEADERS = ("authorization", "x-api-key", "graphql-require-preflight", "apollo-require-preflight")


def ready_services(request: Request | WebSocket) -> Services | None:
    """The services once the lifespan has loaded them; None while starting or stopping."""
    return getattr(request.app.state, "services", None)


def error_response(status: int, message: str, code: ErrorCode | None = None) -> JSONResponse:
    return JSONResponse(http_error_body(status, message, code), status_code=status)


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json; charset=utf-8"


def _wants_graphql_response(request: Request) -> bool:
    """Whether the client accepts the GraphQL over HTTP media type (it then gets it)."""
    return "application/graphql-response+json" in request.headers.get("accept", "")


def _is_request_error(body: GraphQLHTTPResponse) -> bool:
    """No field ran: the document, its variables or its cost were refused as a whole."""
    errors: list[dict[str, Any]] = list(body.get("errors") or [])  # type: ignore[arg-type]
    return body.get("data") is None and bool(errors) and all(not error.get("path") for error in errors)


ACK_WITHOUT_PAYLOAD: UnsetType = UNSET  # on_ws_connect's answer: acknowledge, with no payload


class FaceGraphQL(GraphQL[Context, None]):
    def __init__(self, *args: Any, max_response_bytes: int, **kwargs: Any) -> None:
        # Subscriptions (liveRecognition) over graphql-transport-ws only; the older graphql-ws is deprecated.
        kwargs.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        super().__init__(*args, **kwargs)
        self.max_response_bytes = max_response_bytes
        self.ide_page = (GRAPHIQL_DIR / "index.html").read_text() if self.graphql_ide else ""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(self.ide_page)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services = ready_services(request)
        if services is None:  # the lifespan has not loaded the models yet, or is shutting down
            raise HTTPException(503, "the server is starting")
        try:
            principal = await authenticate(request.headers, services.settings)
        except InvalidKey:
            raise HTTPException(401, "the API key is unknown or revoked") from None
        return Context(services=services, principal=principal, request=request, response=response)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A browser cannot set headers on a WebSocket: its key comes in connection_init's payload instead,
        under the header's name (`{"Authorization": "Bearer <key>"}` or `{"X-API-Key": "<key>"}`)."""
        params = {str(name).lower(): value for name, value in context.connection_params.items()}
        given = {name: params[name] for name in ("authorization", "x-api-key") if name in params}
        if not given:
            return ACK_WITHOUT_PAYLOAD  # the handshake's own headers, if any, already named the caller
        texts: dict[str, str] = {name: value for name, value in given.items() if isinstance(value, str)}
        try:
            if len(texts) != len(given):
                raise InvalidKey
            context.principal = await authenticate(texts, context.services.settings)
        except InvalidKey:
            raise ConnectionRejectionError from None  # closes the socket with 4403 Forbidden
        return ACK_WITHOUT_PAYLOAD

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            if isinstance(request, Request):
                self._refuse_cross_site_form(request)
            response = await super().run(request, context, root_value)
        except HTTPException as exc:
            response = error_response(exc.status_code, exc.reason)
        is_json = isinstance(response, Response) and response.headers.get("content-type", "").startswith(
            "application/json"
        )
        if is_json and isinstance(request, Request) and _wants_graphql_response(request):
            # The GraphQL over HTTP media type; the status codes are already the spec's.
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
        return response

    @staticmethod
    def _refuse_cross_site_form(request: Request) -> None:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        simple = request.method == "POST" and content_type in SIMPLE_CONTENT_TYPES
        if simple and not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
            raise HTTPException(
                400,
                f"a {content_type} request needs an API key or a `GraphQL-Require-Preflight: 1` header "
                "(cross-site request protection)",
            )

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = super().parse_json(data)
        except (UnicodeDecodeError, RecursionError):  # not UTF-8; nested deeper than the parser goes
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "the request body must be a JSON object")
        return parsed

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        try:
            return await super().parse_multipart(request)
        except HTTPException:
            raise
        except (TypeError, ValueError, AttributeError, IndexError, KeyError):
            raise HTTPException(
                400, "the multipart `operations` or `map` is malformed (see the GraphQL multipart request spec)"
            ) from None

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if len(response.body) > self.max_response_bytes:
            # The cost limit keeps almost every answer far below this; the cap is the backstop.
            return error_response(
                400,
                f"the response would be over {self.max_response_bytes} bytes; ask for fewer items",
                ErrorCode.QUERY_TOO_COMPLEX,
            )
        if isinstance(response_data, dict) and _is_request_error(response_data) and response.status_code == 200:
            response.status_code = 400
        return response
