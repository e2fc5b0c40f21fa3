"""The embedding column: pgvector's `vector` on PostgreSQL, raw bytes on SQLite.

In Python an embedding is always the same thing, float32 little-endian bytes of a
unit vector, whichever database holds it. On PostgreSQL the column is untyped
`vector`, so that faces of models with different dimensions can share the table;
search casts it to `vector(d)` for the model it searches, and the HNSW index is on
that cast, one per model (search/pgvector.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tortoise.fields import Field


def vector_literal(embedding: bytes) -> str:
    """pgvector's text form, '[x,y,...]', exact: each float32 written with enough digits to read back the same."""
    return "[" + ",".join(repr(float(x)) for x in np.frombuffer(embedding, dtype="<f4")) + "]"


def parse_vector(text: str) -> bytes:
    return np.array(text.strip("[]").split(","), dtype="<f4").tobytes()


class EmbeddingField(Field[bytes]):
    """float32 little-endian bytes in Python; `vector` on PostgreSQL, BLOB on SQLite."""

    field_type = bytes
    indexable = False
    SQL_TYPE = "BLOB"

    class _db_postgres:
        SQL_TYPE = "vector"

    def to_db_value(self, value: Any, instance: Any) -> Any:
        if value is None:
            return None
        if self.model._meta.db.capabilities.dialect == "postgres":  # `instance` is None in bulk updates
            return vector_literal(bytes(value))  # asyncpg sends a type it has no codec for as text
        return bytes(value)

    def to_python_value(self, value: Any) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        if isinstance(value, str):  # PostgreSQL's text form
            return parse_vector(value)
        return bytes(value)
