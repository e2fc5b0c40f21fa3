"""The service's telemetry: Prometheus metrics (prometheus-client: one registry per app, scraped at /metrics),
request ids (asgi-correlation-id: X-Request-ID taken or made, echoed, in every log line and error), and
the log format (LOG_FORMAT=json: one JSON object a line, python-json-logger).

A leaf: it imports nothing of ours. What is counted as it happens (GraphQL operations, errors by code,
the pipeline's stages) is observed here by the code that does it; what is a level (photos pending,
faces per model and collection, live streams) is set from the services when a scraper asks
(web/routes.py), so that nothing is kept twice.
"""

from __future__ import annotations

import logging
import re

from asgi_correlation_id import CorrelationIdFilter, correlation_id
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Seconds: from a search by embedding (a millisecond) to a large photo on a busy server.
OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PROMETHEUS_TEXT = CONTENT_TYPE_LATEST
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is kept when it is this (a load balancer's or a client's trace id); else one is made.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(correlation_id)s %(message)s"


def valid_request_id(value: str) -> bool:
    return REQUEST_ID.fullmatch(value) is not None


def request_id() -> str | None:
    """The id of the request being answered; None outside one."""
    return correlation_id.get()


def log_handler(log_format: str) -> logging.Handler:
    """A stderr handler in LOG_FORMAT ("text" or "json"), each record given the request's id (`-` outside one)."""
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler()
    handler.addFilter(CorrelationIdFilter(default_value="-"))
    if log_format == "json":
        renamed = {"asctime": "time", "levelname": "level", "name": "logger", "correlation_id": "request_id"}
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields=renamed))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # process_resident_memory_bytes, cpu seconds, open fds
        self.operations = Histogram(
            "faceid_graphql_operation_seconds",
            "GraphQL operations by root fields and result (OK or the first error's code), and how long each took.",
            ["operation", "result"],
            buckets=OPERATION_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "faceid_graphql_errors",
            "Errors answered, by code: BUSY (the pipeline was full), RATE_LIMITED, NOT_FOUND, ...",
            ["code"],
            registry=self.registry,
        )
        self.stages = Histogram(
            "faceid_stage_seconds",
            "Time of each pipeline stage call: detect (a photo: decode and detection), embed (a batch), search.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.pending = Gauge(
            "faceid_pending_photos", "Photos in the pipeline now (MAX_PENDING more: BUSY).", registry=self.registry
        )
        self.faces = Gauge(
            "faceid_collection_faces",
            "Faces stored in each collection.",
            ["collection", "name"],
            registry=self.registry,
        )
        self.persons = Gauge(
            "faceid_collection_persons",
            "Persons stored in each collection.",
            ["collection", "name"],
            registry=self.registry,
        )
        self.searchable = Gauge(
            "faceid_searchable_faces", "Faces each loaded model's search compares.", ["model"], registry=self.registry
        )
        self.search_bytes = Gauge(
            "faceid_search_memory_bytes",
            "Memory held for vectors in this process (0 with pgvector).",
            registry=self.registry,
        )
        self.live_streams = Gauge("faceid_live_streams", "Live recognition streams open.", registry=self.registry)
        # Replicas on PostgreSQL with in-memory search: how each model's copy follows the others' writes.
        self.follower_connected = Gauge(
            "faceid_follower_connected",
            "1 while the copy listens to PostgreSQL's changes.",
            ["model"],
            registry=self.registry,
        )
        self.follower_backlog = Gauge(
            "faceid_follower_backlog",
            "Changes noticed and not yet applied to the copy.",
            ["model"],
            registry=self.registry,
        )
        self.follower_loads = Gauge(
            "faceid_follower_loads",
            "Full loads of the copy: 1 at start, one more per reconnection.",
            ["model"],
            registry=self.registry,
        )

    def operation(self, fields: list[str], result: str, seconds: float, error_codes: list[str]) -> None:
        """One GraphQL operation: its root fields (the schema bounds them; a client's operation name is not kept)."""
        self.operations.labels(",".join(sorted(set(fields))) or "(none)", result).observe(seconds)
        for code in error_codes:
            self.errors.labels(code).inc()

    def stage(self, stage: str, seconds: float) -> None:
        self.stages.labels(stage).observe(seconds)

    def exposition(self) -> bytes:
        """The text format a Prometheus scraper reads."""
        return generate_latest(self.registry)
