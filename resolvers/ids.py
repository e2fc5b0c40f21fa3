"""IDs are the plain UUID strings of the rows."""

from __future__ import annotations

import uuid

from errors import invalid


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise invalid(f"{what} id {value!r} is not a UUID") from None
