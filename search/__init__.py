"""Search backends behind one interface (FaceSearch), chosen by SEARCH_BACKEND.

memory (default): exact search over an in-memory matrix, kept in step with the
database (and, on PostgreSQL, with other replicas). pgvector: the search runs in
PostgreSQL, exact or through an HNSW index.
"""

from search.base import FaceSearch
from search.memory import MemorySearch
from search.pgvector import PgvectorSearch

__all__ = ["FaceSearch", "MemorySearch", "PgvectorSearch"]
