"""A small synchronous GraphQL client for the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://localhost:8000"


class GraphQLFailure(Exception):
    """The server answered with errors (or not at all); the message says which."""


def default_api_key() -> str | None:
    """FACEID_API_KEY, else the admin key the server's first start wrote under DATA_DIR."""
    key = os.environ.get("FACEID_API_KEY", "").strip()
    if key:
        return key
    key_file = Path(os.environ.get("DATA_DIR", "data")) / "admin-api-key"
    return key_file.read_text().strip() if key_file.is_file() else None


@dataclass
class Client:
    url: str
    api_key: str | None
    timeout_s: float = 60.0

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {} if self.api_key is None else {"Authorization": f"Bearer {self.api_key}"}
        try:
            response = httpx.post(
                f"{self.url.rstrip('/')}/graphql",
                json={"query": query, "variables": variables},
                headers=headers,
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise GraphQLFailure(f"cannot reach {self.url}: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            raise GraphQLFailure(f"{self.url} answered HTTP {response.status_code} without JSON") from None
        errors = body.get("errors") or []
        if errors:
            raise GraphQLFailure(
                "; ".join(f"{e.get('extensions', {}).get('code', 'ERROR')}: {e.get('message')}" for e in errors)
            )
        data: dict[str, Any] = body["data"]
        return data
