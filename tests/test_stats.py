"""Stage timings: counts stay exact beyond the percentile window."""

from __future__ import annotations

import pytest

from ml.stats import WINDOW, Stats


def test_counts_are_exact_beyond_the_window():
    stats = Stats()
    for _ in range(WINDOW + 5):
        stats.record("embed", 0.002, items=4)
    stats.count("busy")
    snapshot = stats.snapshot()
    assert snapshot["embed"]["calls"] == WINDOW + 5
    assert snapshot["embed"]["items"] == 4 * (WINDOW + 5)
    assert snapshot["embed"]["total_s"] == pytest.approx(0.002 * (WINDOW + 5))
    assert snapshot["embed"]["p50_ms"] == pytest.approx(2.0)
    assert snapshot["busy"] == {"items": 1}
    stats.reset()
    assert stats.snapshot() == {}
