"""The audit log: every write and every verification, and its retention.

An entry is bounded whatever the caller sent: at most TARGETS_MAX targets of
TEXT_MAX characters each, and a detail of TEXT_MAX. Calls without a key are
refused before they do anything, and anyone can make them: they are summed up,
one entry per operation and ANONYMOUS_SUMMARY_S at the most, so that no caller
without a key can grow the table faster than that.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from auth.scopes import Principal
from models import AuditEntry

log = logging.getLogger("faceid.audit")

TEXT_MAX = 200  # characters of a target or a detail
TARGETS_MAX = 20
ANONYMOUS_SUMMARY_S = 60.0
NO_KEY = "(no key)"


def clipped(text: str, limit: int = TEXT_MAX) -> str:
    """The text, cut to `limit` characters with an ellipsis: what a log or an audit entry may hold of a user's value."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AnonymousRefusals:
    """Refusals of calls without a key: the first of each operation is written, the rest counted and written
    as one entry per operation once ANONYMOUS_SUMMARY_S has passed (or when the server stops)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._written_at: dict[tuple[str, str], float] = {}

    def due(self, operation: str, result: str) -> int:
        """How many refusals the entry to write now stands for (0: none is written now)."""
        key, now = (operation, result), time.monotonic()
        self._counts[key] += 1
        if now - self._written_at.get(key, -ANONYMOUS_SUMMARY_S) < ANONYMOUS_SUMMARY_S:
            return 0
        self._written_at[key] = now
        return self._counts.pop(key)

    def pending(self) -> list[tuple[str, str, int]]:
        counts, self._counts = self._counts, Counter()
        return [(operation, result, count) for (operation, result), count in counts.items()]


_anonymous = AnonymousRefusals()


async def record(
    principal: Principal | None, operation: str, targets: Iterable[str], result: str, detail: str = ""
) -> None:
    """Append one entry; a failure to write it is logged, not raised (the operation already happened)."""
    if principal is None:
        count = _anonymous.due(operation, result)
        if count == 0:
            return
        targets, detail = [], f"{count} calls without a key" if count > 1 else detail
    await _write(principal, operation, targets, result, detail)


async def flush_anonymous() -> None:
    """Write the counted refusals not written yet (at shutdown)."""
    for operation, result, count in _anonymous.pending():
        await _write(None, operation, [], result, f"{count} calls without a key")


async def _write(principal: Principal | None, operation: str, targets: Iterable[str], result: str, detail: str) -> None:
    try:
        await AuditEntry.create(
            key_id=None if principal is None else principal.key_id,
            key_name=NO_KEY if principal is None else principal.name,
            operation=operation,
            targets=[clipped(target) for target in dict.fromkeys(targets)][:TARGETS_MAX],
            result=result,
            detail=clipped(detail),
        )
    except Exception:
        log.exception("could not write the audit entry for %s", clipped(operation))


async def purge(retention_days: int) -> int:
    """Delete entries older than the retention; how many."""
    cutoff = datetime.now(UTC) - timedelta(days=retention_days)
    deleted = await AuditEntry.filter(created_at__lt=cutoff).delete()
    if deleted:
        log.info("audit log: %d entries older than %d days deleted", deleted, retention_days)
    return deleted
