"""Timings of the pipeline's stages, kept in memory for /metrics and the benchmarks."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

WINDOW = 10_000  # samples kept per stage, for the percentiles


class Stats:
    def __init__(self) -> None:
        # Told of every call too (services.py hands it the Prometheus histograms); None: kept here alone.
        self.observer: Callable[[str, float], None] | None = None
        self._lock = threading.Lock()
        self._samples: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=WINDOW))
        self._totals: dict[str, float] = defaultdict(float)
        self._calls: dict[str, int] = defaultdict(int)
        self._counts: dict[str, int] = defaultdict(int)

    def record(self, stage: str, seconds: float, items: int = 1) -> None:
        """One call of a stage that took `seconds` and handled `items` (faces in a batch)."""
        with self._lock:
            self._samples[stage].append(seconds)
            self._totals[stage] += seconds
            self._calls[stage] += 1
            self._counts[stage] += items
        if self.observer is not None:
            self.observer(stage, seconds)

    def count(self, stage: str, items: int = 1) -> None:
        with self._lock:
            self._counts[stage] += items

    @contextmanager
    def timed(self, stage: str, items: int = 1) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record(stage, time.perf_counter() - started, items)

    def reset(self) -> None:
        with self._lock:
            self._samples.clear()
            self._totals.clear()
            self._calls.clear()
            self._counts.clear()

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            out: dict[str, dict[str, float]] = {}
            for stage in sorted(set(self._counts) | set(self._samples)):
                entry: dict[str, float] = {"items": self._counts.get(stage, 0)}
                samples = np.asarray(self._samples.get(stage, ()), dtype=np.float64)
                if samples.size:
                    p50, p95, p99 = np.percentile(samples, [50, 95, 99]) * 1000
                    entry |= {
                        "calls": self._calls[stage],  # all of them; percentiles use the last WINDOW
                        "total_s": self._totals[stage],
                        "p50_ms": p50,
                        "p95_ms": p95,
                        "p99_ms": p99,
                    }
                out[stage] = entry
            return out
