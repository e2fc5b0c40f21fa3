"""Live streams held open: a cap for the server and one per key, so that no key takes every slot."""

from __future__ import annotations

from collections import Counter

from auth.scopes import Principal
from errors import busy


class StreamSlots:
    def __init__(self, total: int, per_key: int) -> None:
        self.total = total
        self.per_key = per_key
        self._held: Counter[str] = Counter()

    @property
    def open(self) -> int:
        return sum(self._held.values())

    def take(self, principal: Principal | None) -> None:
        """Hold one slot for the principal's key; BUSY when the server's or the key's slots are all held."""
        who = _holder(principal)
        if self.open >= self.total:
            raise busy(f"{self.open} live streams are open on this server (LIVE_STREAMS_MAX)")
        if self._held[who] >= self.per_key:
            raise busy(f"this key holds {self._held[who]} live streams already (LIVE_STREAMS_PER_KEY); close one first")
        self._held[who] += 1

    def give_back(self, principal: Principal | None) -> None:
        who = _holder(principal)
        self._held[who] -= 1
        if self._held[who] <= 0:
            del self._held[who]


def _holder(principal: Principal | None) -> str:
    return "anonymous" if principal is None or principal.key_id is None else principal.key_id
