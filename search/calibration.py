"""False match rates that follow the deployment: the gallery's own pairs, blended with LFW's table.

LFW's strangers are not every deployment's strangers: East-Asian women in kpop-crops lie
far closer together than LFW's people, so a false match rate read off LFW's table can be
a hundred times too low there. Faces of different enrolled persons are impostor pairs of
exactly the population the server searches, so once a gallery holds enough of them the
server reads its rates off a blend of the two tables (the one place that decides when and
how much):

- a sample of the gallery, at most SAMPLE_PERSONS persons and SAMPLE_FACES faces (a fixed
  cost however large the gallery: about 2 million pairs), gives the gallery's table;
- it is used once the sample holds MIN_PERSONS persons and MIN_IMPOSTOR_PAIRS impostor pairs;
- the blend is the mixture w * gallery + (1 - w) * LFW with w = persons / (persons +
  PRIOR_PERSONS): LFW counts as much as PRIOR_PERSONS enrolled persons would. With w >= 1/2
  a threshold asked for at rate r has a gallery rate of at most 2r, however far LFW is off;
- same-person pairs of the sample estimate the true match rate in the same way, once there
  are MIN_GENUINE_PAIRS of them (LFW's alone until then).

The server refreshes the blend in the background (settings: GALLERY_CALIBRATION_INTERVAL_S).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from search.base import FaceSearch
from weights.calibration import Calibration, from_counts, pair_counts

log = logging.getLogger(__name__)

SAMPLE_PERSONS = 1_000
SAMPLE_FACES = 2_000
MIN_PERSONS = 10
MIN_IMPOSTOR_PAIRS = 5_000
MIN_GENUINE_PAIRS = 100
PRIOR_PERSONS = 10
SAMPLE_SEED = 22  # the same gallery gives the same sample, so a refresh without changes changes nothing
MAX_AGE_S = 3_600.0  # refit at least this often, even when the gallery's size has not moved (faces re-embedded)


class CalibrationSource(StrEnum):
    LFW = "LFW"  # the shipped table alone
    GALLERY = "GALLERY"  # the gallery's pairs blended with it


@dataclass(frozen=True)
class GalleryFit:
    """The blend in use, and what it was made of."""

    calibration: Calibration  # the blended table, read like the shipped one (its pairs are the sample's)
    persons: int  # persons in the sample
    weight: float  # the gallery's share of the false match rates
    refreshed_at: float  # time.time()


def sample_plan(persons: int) -> tuple[int, int]:
    """How many persons to sample and how many faces of each, for a gallery of `persons` persons."""
    chosen = min(persons, SAMPLE_PERSONS)
    return chosen, max(2, SAMPLE_FACES // max(chosen, 1))


def fit(shipped: Calibration, vectors: np.ndarray, labels: list[str]) -> GalleryFit | None:
    """The blend of `shipped` with the pairs of these sampled faces, or None where the rule says too few."""
    persons = len(set(labels))
    if persons < MIN_PERSONS:
        return None
    impostor, genuine = pair_counts(vectors, np.asarray(labels), shipped.distances)
    impostor_pairs, genuine_pairs = int(impostor[-1]), int(genuine[-1])
    if impostor_pairs < MIN_IMPOSTOR_PAIRS:
        return None
    own = from_counts(shipped.model_id, "", impostor, genuine, shipped.distances)
    weight = persons / (persons + PRIOR_PERSONS)
    genuine_weight = weight if genuine_pairs >= MIN_GENUINE_PAIRS else 0.0
    source = (
        f"this gallery blended with LFW: {impostor_pairs:,} different-person and {genuine_pairs:,} same-person "
        f"pairs of {persons:,} enrolled persons (weight {weight:.2f}), and {shipped.source}"
    )
    blended = Calibration(
        shipped.model_id,
        source,
        impostor_pairs,
        genuine_pairs,
        shipped.distances,
        weight * own.fmr + (1 - weight) * shipped.fmr,
        genuine_weight * own.tmr + (1 - genuine_weight) * shipped.tmr,
    )
    return GalleryFit(blended, persons, weight, time.time())


class GalleryCalibration:
    """The current blend for one model's gallery, refreshed in the background when the gallery changes."""

    def __init__(self, shipped: Calibration | None, interval_s: float) -> None:
        self.shipped = shipped
        self.interval_s = interval_s
        self.fit: GalleryFit | None = None
        self._seen: tuple[int, int] | None = None  # (faces, persons) at the last refresh
        self._refreshed = 0.0  # time.monotonic() of the last refresh
        self._task: asyncio.Task[None] | None = None

    @property
    def calibration(self) -> Calibration | None:
        """The blend once the gallery qualifies, LFW's table before (None for a model never measured)."""
        return self.fit.calibration if self.fit is not None else self.shipped

    @property
    def source(self) -> CalibrationSource:
        return CalibrationSource.LFW if self.fit is None else CalibrationSource.GALLERY

    async def refresh(self, search: FaceSearch) -> None:
        """Sample the gallery and refit, unless its size has not moved since a refresh under MAX_AGE_S ago."""
        if self.shipped is None:
            return
        seen = (await search.size(), await search.persons())
        if seen == self._seen and time.monotonic() - self._refreshed < MAX_AGE_S:
            return
        chosen, faces_each = sample_plan(seen[1])
        vectors, labels = await search.sample(chosen, faces_each, SAMPLE_SEED)
        self.fit = await asyncio.to_thread(fit, self.shipped, vectors, labels) if len(labels) else None
        self._seen, self._refreshed = seen, time.monotonic()

    def start(self, search: FaceSearch) -> None:
        if self.shipped is not None and self.interval_s > 0:
            self._task = asyncio.create_task(self._keep_fresh(search), name="gallery-calibration")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _keep_fresh(self, search: FaceSearch) -> None:
        while True:
            try:
                await self.refresh(search)
            except Exception:  # a failed refresh keeps the last blend; the next one tries again
                log.exception("could not refresh the gallery calibration")
            await asyncio.sleep(self.interval_s)
