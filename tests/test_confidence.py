"""False match rates from the shipped LFW calibration: on candidates, as operating points, as a request."""

from __future__ import annotations

import pytest

from search.thresholds import false_match_rate_for, false_positive_identification_rate
from tests.helpers import ANGELINA, b64
from weights import DEFAULT_EMBEDDER
from weights.calibration import calibration_of

VERIFY = """query($b: String!, $t: Float, $f: Float) {
  verifyLinear(image: {base64: $b}, threshold: $t, maxFalseMatchRate: $f) {
    match threshold best { distance falseMatchRate person { name } }
  }
}"""


@pytest.fixture(scope="module")
async def enrolled(api) -> str:
    person = await api.create_person("Angelina")
    await api.enrol(person, ANGELINA[0])
    return person


def test_every_shipped_model_is_calibrated():
    from weights import EMBEDDERS

    for spec in EMBEDDERS.values():
        for detector in spec.crops:
            calibration = calibration_of(spec.model_id(detector))
            assert calibration is not None, spec.model_id(detector)
            assert calibration.impostor_pairs > 10_000_000
            assert calibration.false_match_rate(0.0) == 0.0 and calibration.false_match_rate(2.0) == 1.0
            # The shipped threshold sits at a false match rate between 0.01 % and 5 %.
            assert 1e-4 < calibration.false_match_rate(spec.recipe(detector).threshold) < 0.05


async def test_model_lists_operating_points(api):
    data = await api.ok(
        "{ model { name embedder defaultThreshold calibration { source description pairs } "
        "operatingPoints { falseMatchRate threshold trueMatchRate } } }"
    )
    model = data["model"]
    points = model["operatingPoints"]
    assert [p["falseMatchRate"] for p in points] == [0.01, 0.001, 0.0001]
    thresholds = [p["threshold"] for p in points]
    assert thresholds == sorted(thresholds, reverse=True) and thresholds[0] < 2
    assert all(0 < p["trueMatchRate"] <= 1 for p in points)
    assert model["calibration"]["source"] == "LFW" and "LFW" in model["calibration"]["description"]
    assert model["calibration"]["pairs"] > 10_000_000 and model["embedder"] == DEFAULT_EMBEDDER


async def test_candidates_carry_their_false_match_rate(api, enrolled):
    same = (await api.ok(VERIFY, b=b64(ANGELINA[1])))["verifyLinear"]
    assert same["match"] is True and same["best"]["person"]["name"] == "Angelina"
    calibration = api.services.model().thresholds.calibration
    assert same["best"]["falseMatchRate"] == pytest.approx(calibration.false_match_rate(same["best"]["distance"]))
    assert same["best"]["falseMatchRate"] < 0.01


async def test_max_false_match_rate_sets_the_threshold(api, enrolled):
    strict = (await api.ok(VERIFY, b=b64(ANGELINA[1]), f=0.0001))["verifyLinear"]
    loose = (await api.ok(VERIFY, b=b64(ANGELINA[1]), f=0.01))["verifyLinear"]
    calibration = api.services.model().thresholds.calibration
    assert strict["threshold"] == calibration.threshold_for(0.0001) < loose["threshold"]
    assert calibration.false_match_rate(loose["threshold"]) <= 0.01


@pytest.mark.parametrize(
    ("threshold", "rate"), [(1.0, 0.001), (None, 0.0), (None, 1.0), (None, -0.5)], ids=["both", "0", "1", "neg"]
)
async def test_bad_false_match_rate_requests_are_invalid(api, enrolled, threshold, rate):
    error = await api.error(VERIFY, b=b64(ANGELINA[1]), t=threshold, f=rate)
    assert error["extensions"]["code"] == "INVALID_INPUT"


FPIR = """query($b: String!, $p: Float, $t: Float) {
  verifyLinear(image: {base64: $b}, maxFalsePositiveIdentificationRate: $p, threshold: $t) {
    threshold falsePositiveIdentificationRate
  }
}"""


def test_the_open_set_rate_compounds_the_false_match_rate_over_the_persons():
    assert false_positive_identification_rate(0.001, 1) == pytest.approx(0.001)
    assert false_positive_identification_rate(0.001, 1000) == pytest.approx(1 - 0.999**1000)
    assert false_positive_identification_rate(1e-9, 10**6) == pytest.approx(1e-3, rel=1e-3)  # no rounding to 0
    for persons in (1, 10, 10_000):
        rate = false_match_rate_for(0.01, persons)
        assert false_positive_identification_rate(rate, persons) == pytest.approx(0.01)
    assert false_match_rate_for(0.01, 10_000) < false_match_rate_for(0.01, 10) < 0.01


async def test_a_one_to_many_answer_says_how_often_a_stranger_would_match(api, enrolled):
    answer = (await api.ok(FPIR, b=b64(ANGELINA[1])))["verifyLinear"]
    calibration, persons = api.services.model().thresholds.calibration, await api.services.model().search.persons()
    expected = false_positive_identification_rate(calibration.false_match_rate(answer["threshold"]), persons)
    assert persons >= 1 and answer["falsePositiveIdentificationRate"] == pytest.approx(expected)
    one_to_one = await api.ok(
        "query($p: ID!, $b: String!) { verifyPerson(personId: $p, image: {base64: $b}) "
        "{ falsePositiveIdentificationRate } }",
        p=enrolled,
        b=b64(ANGELINA[1]),
    )
    assert one_to_one["verifyPerson"]["falsePositiveIdentificationRate"] is None


async def test_max_false_positive_identification_rate_sets_the_threshold_for_the_gallery(api, enrolled):
    answer = (await api.ok(FPIR, b=b64(ANGELINA[1]), p=0.01))["verifyLinear"]
    calibration, persons = api.services.model().thresholds.calibration, await api.services.model().search.persons()
    assert answer["threshold"] == calibration.threshold_for(false_match_rate_for(0.01, persons))
    assert answer["falsePositiveIdentificationRate"] <= 0.01
    error = await api.error(FPIR, b=b64(ANGELINA[1]), p=0.01, t=1.0)
    assert error["extensions"]["code"] == "INVALID_INPUT"
