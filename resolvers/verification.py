"""1:K identification and 1:1 verification against the search backend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from auth.access import sees_beyond_max_threshold, shown_distance
from bounds import SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX
from errors import invalid
from ml.gallery import Match, similarity
from resolvers.context import Context
from resolvers.faces import embed_image
from resolvers.mapping import detected_face_type
from resolvers.persons import get_person_row
from schema.inputs import ImageInput
from schema.types import Candidate, DetectedFace, ModelInfo, OperatingPoint, Verification
from weights.calibration import OPERATING_FMRS


def threshold_of(ctx: Context, threshold: float | None, max_false_match_rate: float | None) -> float:
    """The cut-off for `match`: given, translated from a false match rate, or the model's default.

    Never beyond the server's maximum: a looser match would name strangers. A cut-off
    the caller chose comes on the grid its distances are shown on (auth.access): a
    sweep of thresholds would otherwise measure a distance exactly, one bit at a time.
    """
    cutoff = _cutoff(ctx, threshold, max_false_match_rate)
    if threshold is None and max_false_match_rate is None:
        return cutoff
    return min(shown_distance(ctx.principal, cutoff), ctx.services.max_threshold)


def _cutoff(ctx: Context, threshold: float | None, max_false_match_rate: float | None) -> float:
    if threshold is not None and max_false_match_rate is not None:
        raise invalid("give `threshold` or `maxFalseMatchRate`, not both")
    ceiling = ctx.services.max_threshold
    if max_false_match_rate is not None:
        if not 0.0 < max_false_match_rate < 1.0:
            raise invalid("`maxFalseMatchRate` must be in (0, 1)")
        calibration = ctx.services.calibration
        if calibration is None:
            raise invalid(f"model {ctx.services.model_id} has no calibration; give `threshold` instead")
        return min(calibration.threshold_for(max_false_match_rate), ceiling)
    if threshold is None:
        return ctx.services.default_threshold
    if not 0.0 < threshold <= ceiling:
        raise invalid(f"`threshold` must be in (0, {ceiling:.4g}] (the server's MAX_THRESHOLD)")
    return threshold


async def _candidates(ctx: Context, matches: list[Match]) -> list[tuple[Match, Candidate]]:
    """Each match still stored, with its candidate as this caller may see it."""
    faces = await ctx.loaders.face.load_many([m.face_id for m in matches])
    persons = await ctx.loaders.person.load_many([m.person_id for m in matches])
    calibration = ctx.services.calibration
    shown = [shown_distance(ctx.principal, m.distance) for m in matches]
    return [
        (
            m,
            Candidate(
                person=person,
                face=face,
                distance=distance,
                similarity=similarity(distance),
                false_match_rate=None if calibration is None else calibration.false_match_rate(distance),
            ),
        )
        for m, distance, face, person in zip(matches, shown, faces, persons, strict=True)
        # A face deleted between the search and this read is left out.
        if face is not None and person is not None
    ]


@dataclass(frozen=True)
class Question:
    """How a search is asked: where `match` is cut off, how many persons, exactly or through an index."""

    cutoff: float
    limit: int
    exact: bool = True


def question(
    ctx: Context, threshold: float | None, max_false_match_rate: float | None, limit: int | None, exact: bool
) -> Question:
    """The arguments a 1:K field shares, checked (INVALID_INPUT) before any model runs."""
    limit = check_limit(limit)
    return Question(threshold_of(ctx, threshold, max_false_match_rate), limit, exact)


async def answer(
    ctx: Context, vector: np.ndarray, asked: Question, person_id: str | None, probe: DetectedFace | None
) -> Verification:
    """Search the stored faces for `vector`: the nearest persons (or one person's faces) and the decision."""
    search, cutoff = ctx.services.search, asked.cutoff
    with ctx.services.engine.stats.timed("search"):
        matches = await search.search(vector, asked.limit, person_id, asked.exact)
    if not sees_beyond_max_threshold(ctx.principal):
        ceiling = ctx.services.max_threshold
        matches = [m for m in matches if m.distance <= ceiling]
    searched = await (search.size() if person_id is None else search.count_of(person_id))
    found = await _candidates(ctx, matches)
    candidates = [candidate for _, candidate in found]
    return Verification(
        # Decided on the exact distance; the candidate's may be shown rounded.
        match=bool(found) and found[0][0].distance <= cutoff,
        threshold=cutoff,
        best=candidates[0] if candidates else None,
        candidates=candidates,
        probe=probe,
        model=ctx.services.model_id,
        searched=searched,
    )


async def _verify(ctx: Context, image: ImageInput, asked: Question, person_id: str | None) -> Verification:
    _, result = await embed_image(ctx, image)
    return await answer(ctx, result.vector, asked, person_id, detected_face_type(result.face))


def check_limit(limit: int | None) -> int:
    """`limit` of a 1:K search, its default when null; INVALID_INPUT out of range."""
    limit = SEARCH_LIMIT_DEFAULT if limit is None else limit
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise invalid(f"`limit` must be between 1 and {SEARCH_LIMIT_MAX}")
    return limit


async def verify_linear(ctx: Context, image: ImageInput, asked: Question) -> Verification:
    return await _verify(ctx, image, asked, None)


async def verify_person(
    ctx: Context, person_id: str, image: ImageInput, threshold: float | None, max_false_match_rate: float | None
) -> Verification:
    person = await get_person_row(person_id)
    cutoff = threshold_of(ctx, threshold, max_false_match_rate)  # a bad one fails before the models run
    return await _verify(ctx, image, Question(cutoff, SEARCH_LIMIT_MAX), str(person.id))


def model_info(ctx: Context) -> ModelInfo:
    services = ctx.services
    spec, calibration = services.spec, services.calibration
    points = []
    if calibration is not None:
        for fmr in OPERATING_FMRS:
            cutoff = calibration.threshold_for(fmr)
            points.append(
                OperatingPoint(
                    false_match_rate=fmr, threshold=cutoff, true_match_rate=calibration.true_match_rate(cutoff)
                )
            )
    return ModelInfo(
        name=services.model_id,
        embedder=spec.key,
        description=spec.description,
        dimension=spec.dimension,
        input_size=spec.input_size,
        metric=spec.metric,
        default_threshold=services.default_threshold,
        max_threshold=services.max_threshold,
        operating_points=points,
        calibration=None if calibration is None else calibration.source,
    )
