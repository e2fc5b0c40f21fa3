"""Per-key rate limits on the calls that run the models (moving window, in memory).

Each server process counts for itself: with N replicas a key gets up to N times the
rate, which still bounds what one key can cost a replica.
"""

from __future__ import annotations

import math
import time
from enum import StrEnum
from typing import Protocol

import limits
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from auth.scopes import Principal
from errors import ApiError, ErrorCode


class RateKind(StrEnum):
    VERIFY = "verify"
    ENROL = "enrol"
    LIVE_FRAMES = "live_frames"


class RateSettings(Protocol):
    """The rates, in the `limits` notation ("60/minute"); settings.Settings is one."""

    @property
    def rate_limit_verify(self) -> str: ...
    @property
    def rate_limit_enrol(self) -> str: ...
    @property
    def rate_limit_live_frames(self) -> str: ...


class RateLimits:
    def __init__(self, settings: RateSettings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items = {
            RateKind.VERIFY: limits.parse(settings.rate_limit_verify),
            RateKind.ENROL: limits.parse(settings.rate_limit_enrol),
            RateKind.LIVE_FRAMES: limits.parse(settings.rate_limit_live_frames),
        }

    def hit(self, kind: RateKind, principal: Principal, cost: int = 1) -> None:
        """Count `cost` calls (a liveness check's frames); RATE_LIMITED (with retryAfter seconds) over the rate."""
        item, who = self._items[kind], principal.key_id or "anonymous"
        if self._limiter.hit(item, kind.value, who, cost=cost):
            return
        reset_at = self._limiter.get_window_stats(item, kind.value, who).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise ApiError(
            ErrorCode.RATE_LIMITED,
            f"over the rate of {item} for {kind.value} calls on this key; retry in {retry_after} s",
            {"retryAfter": retry_after, "limit": str(item)},
        )
