"""1:K search: the stored faces nearest a probe, best face per person, behind one interface (FaceSearch).

Backends (search/registry.py, chosen by SEARCH_BACKEND): memory, the default, is exact
search over an in-memory matrix kept in step with the database (and, on PostgreSQL,
with other replicas); pgvector runs the search in PostgreSQL, exact or through an HNSW
index. Every backend ranks the same way (search/ranking.py), and search/thresholds.py
says where a match is cut off.
"""
