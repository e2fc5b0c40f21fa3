"""1:K identification and 1:1 verification against the search backend."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from auth.access import sees_beyond_max_threshold, shown_distance
from bounds import SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX
from errors import invalid
from ml.pipeline import LocatedFace
from models import Collection as CollectionRow
from models import Face as FaceRow
from models import Person as PersonRow
from resolvers.collections import chosen, model_of
from resolvers.context import Context
from resolvers.faces import embed_image
from resolvers.images import Photo
from resolvers.persons import get_person_row
from search.ranking import Match, similarity
from search.thresholds import Thresholds, false_match_rate_for, false_positive_identification_rate
from weights import EmbedderSpec
from weights.calibration import Calibration

if TYPE_CHECKING:
    from services import LoadedModel


@dataclass(frozen=True)
class Cutoff:
    """How the caller asked for `match` to be cut off: at most one of the three, else the model's default."""

    threshold: float | None = None
    max_false_match_rate: float | None = None
    max_false_positive_identification_rate: float | None = None  # 1:K only: over the persons searched


@dataclass(frozen=True)
class SearchOptions:
    """How a search is asked: in which collection, where `match` is cut off, how many persons, exactly or not."""

    collection_id: str
    model: str  # the collection's model: the probe is embedded, searched and thresholded by it
    cutoff: float
    limit: int
    exact: bool = True


@dataclass(frozen=True)
class ShownCandidate:
    """A stored face near the probe, with its distance as this caller may see it."""

    face: FaceRow
    person: PersonRow
    distance: float  # exact with BIOMETRICS, else on auth.access's grid
    false_match_rate: float | None  # of that distance, on LFW; None without a calibration

    @property
    def similarity(self) -> float:
        return similarity(self.distance)


@dataclass(frozen=True)
class Verdict:
    """The answer to a verification or identification: the candidates nearest first, and the decision."""

    match: bool
    threshold: float
    candidates: list[ShownCandidate]
    probe: LocatedFace | None  # the probe photo's face used; None for a search by embedding
    model: str
    searched: int  # stored faces compared
    # 1:K only, with a calibration: how often a stranger would be matched to one of the persons searched.
    false_positive_identification_rate: float | None = None

    @property
    def best(self) -> ShownCandidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class ModelDescription:
    """An embedding model this server has loaded and the thresholds its distances are read with."""

    model_id: str
    spec: EmbedderSpec
    thresholds: Thresholds
    default: bool  # the model of new collections that name none


async def threshold_of(ctx: Context, asked: Cutoff, collection_id: str, model: LoadedModel) -> float:
    """The cut-off for `match`: given, translated from a false match rate (or an FPIR over the persons
    searched), or the model's default.

    Never beyond the server's maximum: a looser match would name strangers. A cut-off
    the caller chose comes on the grid its distances are shown on (auth.access): a
    sweep of thresholds would otherwise measure a distance exactly, one bit at a time.
    """
    given = [
        value
        for value in (asked.threshold, asked.max_false_match_rate, asked.max_false_positive_identification_rate)
        if value is not None
    ]
    if len(given) > 1:
        raise invalid("give at most one of `threshold`, `maxFalseMatchRate` and `maxFalsePositiveIdentificationRate`")
    if not given:
        return model.thresholds.default
    cutoff = await _cutoff(asked, collection_id, model)
    return min(shown_distance(ctx.principal, cutoff), model.thresholds.maximum)


async def _cutoff(asked: Cutoff, collection_id: str, model: LoadedModel) -> float:
    ceiling = model.thresholds.maximum
    rate, name = asked.max_false_match_rate, "maxFalseMatchRate"
    if asked.max_false_positive_identification_rate is not None:
        rate, name = asked.max_false_positive_identification_rate, "maxFalsePositiveIdentificationRate"
    if rate is not None:
        if not 0.0 < rate < 1.0:
            raise invalid(f"`{name}` must be in (0, 1)")
        calibration = model.thresholds.calibration
        if calibration is None:
            raise invalid(f"model {model.id} has no calibration; give `threshold` instead")
        if asked.max_false_positive_identification_rate is not None:
            rate = false_match_rate_for(rate, await model.search.persons(collection_id))
        return min(calibration.threshold_for(rate), ceiling)
    assert asked.threshold is not None
    if not 0.0 < asked.threshold <= ceiling:
        raise invalid(f"`threshold` must be in (0, {ceiling:.4g}] (the server's MAX_THRESHOLD)")
    return asked.threshold


async def _candidates(
    ctx: Context, matches: list[Match], calibration: Calibration | None, ceiling: float
) -> list[tuple[Match, ShownCandidate]]:
    """Each match still stored, with its candidate as this caller may see it (its distance never past `ceiling`)."""
    faces = await ctx.loaders.face.load_many([m.face_id for m in matches])
    persons = await ctx.loaders.person.load_many([m.person_id for m in matches])
    shown = [shown_distance(ctx.principal, m.distance, ceiling) for m in matches]
    rates = [None if calibration is None else calibration.false_match_rate(distance) for distance in shown]
    return [
        (m, ShownCandidate(face, person, distance, rate))
        for m, distance, rate, face, person in zip(matches, shown, rates, faces, persons, strict=True)
        # A face deleted between the search and this read is left out.
        if face is not None and person is not None
    ]


async def search_options(
    ctx: Context, cutoff: Cutoff, limit: int | None, exact: bool, collection: str | None
) -> SearchOptions:
    """The arguments a 1:K field shares, checked (INVALID_INPUT, NOT_FOUND) before any model runs."""
    limit = check_limit(limit)
    place = await chosen(ctx, collection)
    collection_id, model = str(place.id), model_of(ctx, place)
    return SearchOptions(collection_id, model.id, await threshold_of(ctx, cutoff, collection_id, model), limit, exact)


async def verify_embedding(
    ctx: Context, vector: np.ndarray, options: SearchOptions, person_id: str | None, probe: LocatedFace | None
) -> Verdict:
    """Search the stored faces for `vector`: the nearest persons (or one person's faces) and the decision."""
    model, cutoff, collection = ctx.services.model(options.model), options.cutoff, options.collection_id
    search = model.search
    with ctx.services.engine.stats.timed("search"):
        matches = await search.search(vector, options.limit, collection, person_id, options.exact)
    ceiling = math.inf
    if not sees_beyond_max_threshold(ctx.principal):
        ceiling = model.thresholds.maximum
        matches = [m for m in matches if m.distance <= ceiling]
    searched = await (search.size(collection) if person_id is None else search.count_of(person_id, collection))
    calibration, fpir = model.thresholds.calibration, None
    found = await _candidates(ctx, matches, calibration, ceiling)
    if person_id is None and calibration is not None:
        fpir = false_positive_identification_rate(
            calibration.false_match_rate(cutoff), await search.persons(collection)
        )
    return Verdict(
        # Decided on the exact distance; the candidate's may be shown rounded.
        match=bool(found) and found[0][0].distance <= cutoff,
        threshold=cutoff,
        candidates=[candidate for _, candidate in found],
        probe=probe,
        model=model.id,
        searched=searched,
        false_positive_identification_rate=fpir,
    )


async def _verify(ctx: Context, image: Photo, options: SearchOptions, person_id: str | None) -> Verdict:
    _, result = await embed_image(ctx, image, options.model)
    return await verify_embedding(ctx, result.vector, options, person_id, result.face)


def check_limit(limit: int | None) -> int:
    """`limit` of a 1:K search, its default when null; INVALID_INPUT out of range."""
    limit = SEARCH_LIMIT_DEFAULT if limit is None else limit
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise invalid(f"`limit` must be between 1 and {SEARCH_LIMIT_MAX}")
    return limit


async def verify_linear(ctx: Context, image: Photo, options: SearchOptions) -> Verdict:
    return await _verify(ctx, image, options, None)


async def verify_person(ctx: Context, person_id: str, image: Photo, asked: Cutoff) -> Verdict:
    person = await get_person_row(ctx, person_id)
    collection_id = str(person.collection_id)
    model = model_of(ctx, await CollectionRow.get(id=person.collection_id))
    cutoff = await threshold_of(ctx, asked, collection_id, model)  # a bad one fails before the models run
    options = SearchOptions(collection_id, model.id, cutoff, SEARCH_LIMIT_MAX)
    return await _verify(ctx, image, options, str(person.id))


def describe(ctx: Context, model: LoadedModel) -> ModelDescription:
    return ModelDescription(model.id, model.spec, model.thresholds, model.id == ctx.services.model_id)


def model_info(ctx: Context) -> ModelDescription:
    """The default model's."""
    return describe(ctx, ctx.services.model())


def models_info(ctx: Context) -> list[ModelDescription]:
    """Every model this server has loaded, the default first."""
    return [describe(ctx, model) for model in ctx.services.models.values()]
