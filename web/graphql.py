"""The GraphQL endpoint over HTTP: who is calling, and a typed 4xx for every malformed request.

Strawberry's view answers a malformed request with plain text or, for some, a 500;
here every such answer is a GraphQL-shaped JSON body with `extensions.code`.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from auth.keys import KEY_HEADERS, InvalidKey, authenticate, is_active
from bounds import VARIABLE_VALUES_MAX
from errors import ErrorCode
from resolvers.context import Context
from resolvers.live import close_stream
from services import Services
from web.answers import error_response
from web.static import GRAPHIQL_DIR

# A cross-site page can send these content types without a CORS preflight; such a
# request must carry a header that a page cannot set without one.
SIMPLE_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain")
PREFLIGHT_HEADERS = (*KEY_HEADERS, "graphql-require-preflight", "apollo-require-preflight")


def ready_services(request: Request | WebSocket) -> Services | None:
    """The services once the lifespan has loaded them; None while starting or stopping."""
    return getattr(request.app.state, "services", None)


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json; charset=utf-8"


def _wants_graphql_response(request: Request) -> bool:
    """Whether the client accepts the GraphQL over HTTP media type (it then gets it)."""
    return "application/graphql-response+json" in request.headers.get("accept", "")


def _wants_plain_json(request: Request) -> bool:
    """Whether the client asked for application/json and not the GraphQL media type: the spec's legacy clients,
    which read a request error from a 200 (GraphQL over HTTP, "application/json" responses)."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and not _wants_graphql_response(request)


def _is_request_error(body: GraphQLHTTPResponse) -> bool:
    """No field ran: the document, its variables or its cost were refused as a whole."""
    errors: list[dict[str, Any]] = list(body.get("errors") or [])  # type: ignore[arg-type]
    return body.get("data") is None and bool(errors) and all(not error.get("path") for error in errors)


REQUEST_ERROR = "faceid.request_error"  # set in the request's scope when no field ran (process_result)
ACK_WITHOUT_PAYLOAD: UnsetType = UNSET  # on_ws_connect's answer: acknowledge, with no payload
FORBIDDEN_CLOSE = 4403  # graphql-transport-ws's close code for a refused connection


# Commas a JSON body may hold: every value of the variables but one is followed by one, and text
# (names, metadata) adds some; a base64 image has none.
JSON_SEPARATORS_MAX = 4 * VARIABLE_VALUES_MAX


class RefusedBody(HTTPException):
    """A request refused before its body is parsed, with its own code."""

    def __init__(self, status: int, reason: str, code: ErrorCode) -> None:
        super().__init__(status, reason)
        self.code = code


class RefusedConnection(Exception):
    """connection_init refused: the socket closes with 4403 and this reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class KeyCheckedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws whose connection names its key once and has it checked again on every operation:
    a key revoked while the socket is open closes it (4403) at the next operation, before that one runs."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except RefusedConnection as refused:
            await self.websocket.close(code=FORBIDDEN_CLOSE, reason=refused.reason)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        if not await is_active(self.context.principal):
            self.operations.pop(operation.id, None)
            await self.websocket.close(code=FORBIDDEN_CLOSE, reason="the API key was revoked")
            return
        await super().run_operation(operation)

    async def shutdown(self) -> None:
        await super().shutdown()
        # A stream whose subscription ended before its first frame was asked for never ran its own cleanup.
        for stream in list(self.context.live_streams):
            close_stream(self.context, stream)


class FaceGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = KeyCheckedTransportWS

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
        if isinstance(request, WebSocket):  # its key is checked at connection_init (on_ws_connect)
            return Context(services=services, request=request, response=response)
        try:
            principal = await authenticate(request.headers, services.settings)
        except InvalidKey:
            raise HTTPException(401, "the API key is unknown or revoked") from None
        return Context(services=services, principal=principal, request=request, response=response)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The key of the handshake's headers, or of connection_init's payload under the header's name (a
        browser cannot set headers on a WebSocket): `{"Authorization": "Bearer <key>"}` or `{"X-API-Key": ...}`.
        Without a key (AUTH=on) or with a bad one, the socket closes with 4403 and the reason."""
        params = {str(name).lower(): value for name, value in context.connection_params.items()}
        given = {name: params[name] for name in KEY_HEADERS if name in params}
        if not given and context.request is not None:
            headers = context.request.headers
            given = {name: headers[name] for name in KEY_HEADERS if name in headers}
        texts: dict[str, str] = {name: value for name, value in given.items() if isinstance(value, str)}
        try:
            if len(texts) != len(given):
                raise InvalidKey
            context.principal = await authenticate(texts, context.services.settings)
        except InvalidKey:
            raise RefusedConnection("the API key is unknown or revoked") from None
        if context.principal is None:
            raise RefusedConnection(
                'an API key is required: send it in connection_init\'s payload as {"Authorization": "Bearer <key>"}'
            )
        return ACK_WITHOUT_PAYLOAD

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            if isinstance(request, Request):
                self._refuse_cross_site_form(request)
            response = await super().run(request, context, root_value)
        except HTTPException as exc:
            response = error_response(exc.status_code, exc.reason, exc.code if isinstance(exc, RefusedBody) else None)
        if isinstance(request, Request) and request.scope.get(REQUEST_ERROR):
            # GraphQL over HTTP: a request error (no field ran) is a 400 under its own media type, and a 200
            # with `errors` for a client that asked for application/json alone.
            response.status_code = 200 if _wants_plain_json(request) else 400
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
        # Parsing a million numbers holds the event loop for a tenth of a second (json.loads keeps the GIL):
        # a body with far more separators than the variables may hold values is refused before it is parsed.
        separators = data.count(b",") if isinstance(data, bytes) else data.count(",")
        if separators > JSON_SEPARATORS_MAX:
            raise RefusedBody(
                400,
                f"the request holds {separators} JSON values, far more than the {VARIABLE_VALUES_MAX} its variables "
                "may hold",
                ErrorCode.QUERY_TOO_COMPLEX,
            )
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

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        if _is_request_error(body):
            request.scope[REQUEST_ERROR] = True
            if _wants_graphql_response(request):
                body.pop("data", None)  # the spec: a request error has no `data` entry
        return body

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
        return response
