"""Plain asyncpg connections beside Tortoise's pool, for what the ORM does not do well.

Reading a million embeddings through the ORM would parse a million texts; here
pgvector's binary form is decoded in bulk instead. LISTEN needs a connection of
its own that stays open.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import numpy as np

# Query parameters that configure Tortoise's pool, not the PostgreSQL session.
_TORTOISE_PARAMETERS = {"minsize", "maxsize", "max_inactive_connection_lifetime", "connection_class", "schema"}


def asyncpg_dsn(url: str) -> str:
    """A DATABASE_URL as Tortoise takes it, as asyncpg takes it."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in _TORTOISE_PARAMETERS])
    return urlunsplit(("postgresql", parts.netloc, parts.path, query, parts.fragment))


def _decode_vector(data: bytes) -> bytes:
    # pgvector's binary form: dimension (int16), unused (int16), then big-endian float32s.
    return data[4:]


def _encode_vector(vector: bytes) -> bytes:
    values = np.frombuffer(vector, dtype="<f4")
    return len(values).to_bytes(2, "big") + b"\0\0" + values.astype(">f4").tobytes()


async def register_vector(connection: asyncpg.Connection) -> None:
    """`vector` values in binary: sent as little-endian float32 bytes, read as big-endian (see vectors_of)."""
    await connection.set_type_codec(
        "vector", schema="public", encoder=_encode_vector, decoder=_decode_vector, format="binary"
    )


async def connect(url: str, application_name: str) -> asyncpg.Connection:
    """One connection with register_vector; application_name tells our connections apart in pg_stat_activity."""
    connection = await asyncpg.connect(asyncpg_dsn(url), server_settings={"application_name": application_name})
    await register_vector(connection)
    return connection


def vectors_of(decoded: list[bytes], dimension: int) -> np.ndarray:
    """Decoded `vector` values as one float32 matrix, rows in order."""
    matrix = np.frombuffer(b"".join(decoded), dtype=">f4").astype(np.float32)
    return matrix.reshape(-1, dimension)
