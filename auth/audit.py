"""The audit log: every write and every verification, and its retention."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from auth.scopes import Principal
from models import AuditEntry

log = logging.getLogger("faceid.audit")


async def record(
    principal: Principal | None, operation: str, targets: Iterable[str], result: str, detail: str = ""
) -> None:
    """Append one entry; a failure to write it is logged, not raised (the operation already happened)."""
    try:
        await AuditEntry.create(
            key_id=None if principal is None else principal.key_id,
            key_name="(no key)" if principal is None else principal.name,
            operation=operation,
            targets=list(dict.fromkeys(targets)),
            result=result,
            detail=detail[:200],
        )
    except Exception:
        log.exception("could not write the audit entry for %s", operation)


async def purge(retention_days: int) -> int:
    """Delete entries older than the retention; how many."""
    cutoff = datetime.now(UTC) - timedelta(days=retention_days)
    deleted = await AuditEntry.filter(created_at__lt=cutoff).delete()
    if deleted:
        log.info("audit log: %d entries older than %d days deleted", deleted, retention_days)
    return deleted
