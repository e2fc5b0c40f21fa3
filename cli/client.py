"""A small synchronous GraphQL client for the command line."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://localhost:8000"
RETRIED = {"BUSY", "RATE_LIMITED"}  # the server asks to come back later: the client waits and retries


class GraphQLFailure(Exception):
    """The server answered with errors (or not at all); `code` is the first error's code."""

    def __init__(self, message: str, code: str = "ERROR", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


def default_api_key() -> str | None:
    """FACEID_API_KEY, else the admin key the server's first start wrote under DATA_DIR."""
    key = os.environ.get("FACEID_API_KEY", "").strip()
    if key:
        return key
    key_file = Path(os.environ.get("DATA_DIR", "data")) / "admin-api-key"
    return key_file.read_text().strip() if key_file.is_file() else None


NO_KEY_HINT = "or run where $DATA_DIR/admin-api-key is readable"


@dataclass
class Client:
    url: str
    api_key: str | None
    timeout_s: float = 120.0
    retries: int = 5
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        headers = {} if self.api_key is None else {"Authorization": f"Bearer {self.api_key}"}
        self.http = httpx.Client(base_url=self.url.rstrip("/"), headers=headers, timeout=self.timeout_s)

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        """The operation's data; GraphQLFailure on errors (BUSY and RATE_LIMITED are retried)."""
        return self._with_retries(lambda: self.http.post("/graphql", json={"query": query, "variables": variables}))

    def upload(self, query: str, path: Path, **variables: Any) -> dict[str, Any]:
        """As execute, with the file at `path` as the variable `file` (the multipart request spec)."""
        operations = json.dumps({"query": query, "variables": {**variables, "file": None}})

        def send() -> httpx.Response:
            with path.open("rb") as file:
                return self.http.post(
                    "/graphql",
                    data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
                    files={"0": (path.name, file, "application/octet-stream")},
                )

        return self._with_retries(send)

    def _with_retries(self, send: Any) -> dict[str, Any]:
        for attempt in range(self.retries + 1):
            try:
                try:
                    response = send()
                except httpx.HTTPError as exc:
                    raise GraphQLFailure(f"cannot reach {self.url}: {exc}", "UNREACHABLE") from None
                return self._data(response)
            except GraphQLFailure as failure:
                if failure.code not in RETRIED or attempt == self.retries:
                    raise
                time.sleep(failure.retry_after or 0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def _data(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise GraphQLFailure(f"{self.url} answered HTTP {response.status_code} without JSON") from None
        errors = body.get("errors") or []
        if errors:
            extensions = errors[0].get("extensions") or {}
            code = str(extensions.get("code", "ERROR"))
            message = "; ".join(f"{e.get('extensions', {}).get('code', 'ERROR')}: {e.get('message')}" for e in errors)
            if code == "UNAUTHENTICATED" and self.api_key is None:
                message += f" (no API key was found: give one with --api-key or FACEID_API_KEY, {NO_KEY_HINT})"
            raise GraphQLFailure(message, code, extensions.get("retryAfter"))
        data: dict[str, Any] = body["data"]
        return data

    def close(self) -> None:
        self.http.close()
