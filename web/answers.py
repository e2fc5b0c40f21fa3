"""Every error the edge answers before GraphQL runs: a GraphQL-shaped JSON body with its code, and its headers."""

from __future__ import annotations

from starlette.responses import JSONResponse

from errors import ErrorCode, error_headers, http_error_body
from telemetry import request_id


def error_response(
    status: int, message: str, code: ErrorCode | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The answer (code by status if not given; a 401's challenge, a 503's Retry-After; the request's id), usable as
    an ASGI app."""
    body = http_error_body(status, message, code)
    if (current := request_id()) is not None:
        errors = body["errors"]
        assert isinstance(errors, list)
        errors[0]["extensions"]["requestId"] = current
    return JSONResponse(body, status_code=status, headers=error_headers(status, headers))
