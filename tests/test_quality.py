"""Face quality: measured at enrolment, stored, returned; faces below the minimums are refused."""

from __future__ import annotations

import base64
import io
from dataclasses import replace

import pytest
from PIL import Image, ImageFilter

import devdata
from ml.quality import FaceQuality, QualityIssue, QualityMinimums, issues, measure, sharpness_crop
from services import build_pipeline
from settings import Settings
from tests.helpers import ANGELINA, b64

ENROL = """mutation($p: ID!, $b: String!, $allow: Boolean! = false) {
  createFace(personId: $p, image: {base64: $b}, allowLowQuality: $allow) {
    id quality { interEyePx sharpness yawDeg rollDeg detectionScore }
  }
}"""


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def shrunk(width: int) -> bytes:
    photo = Image.open(ANGELINA[0]).convert("RGB")
    return jpeg(photo.resize((width, round(photo.height * width / photo.width)), Image.Resampling.LANCZOS))


def blurred(radius: float) -> bytes:
    return jpeg(Image.open(ANGELINA[0]).convert("RGB").filter(ImageFilter.GaussianBlur(radius)))


def b64_bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_quality_of_a_good_portrait(pipeline):
    photo = devdata.LFW / "images" / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg"  # small: never decoded reduced
    face = pipeline.locate(photo.read_bytes())
    image = pipeline.decode(photo.read_bytes()).whole
    assert measure(face.detection, sharpness_crop(image, face.detection.box)) == face.quality
    quality = pipeline.locate(ANGELINA[0].read_bytes()).quality
    assert quality.inter_eye_px > 60 and abs(quality.yaw_deg) < 20 and abs(quality.roll_deg) < 15
    assert quality.sharpness > 50 and quality.detection_score > 0.99


def test_sharpness_is_measured_alike_whatever_the_model(pipeline):
    """SFace's crops are 112 px with black beyond the photo, FaceNet's 160: MIN_SHARPNESS means the same for both."""
    facenet = build_pipeline(Settings(embedder="facenet128"))
    for photo in (ANGELINA[0], devdata.KPOP / "Arin" / sorted(p.name for p in (devdata.KPOP / "Arin").iterdir())[0]):
        ours, theirs = pipeline.locate(photo.read_bytes()), facenet.locate(photo.read_bytes())
        assert ours.crop.shape != theirs.crop.shape and ours.quality == theirs.quality


async def test_enrolment_returns_and_stores_quality(api):
    person = await api.create_person("Quality")
    face = (await api.ok(ENROL, p=person, b=b64(ANGELINA[0])))["createFace"]
    again = await api.ok(
        "query($id: ID!) { face(id: $id) { quality { interEyePx sharpness yawDeg rollDeg detectionScore } } }",
        id=face["id"],
    )
    assert again["face"]["quality"] == face["quality"]
    assert face["quality"]["interEyePx"] > 60


@pytest.mark.parametrize(
    ("photo", "reason"),
    [(lambda: shrunk(44), QualityIssue.TOO_SMALL), (lambda: blurred(25), QualityIssue.BLURRED)],
    ids=["small", "blurred"],
)
async def test_low_quality_is_refused_with_its_reason_and_writes_nothing(api, photo, reason):
    person = await api.create_person(f"Low quality {reason}")
    before = await api.counts()
    error = await api.error(ENROL, p=person, b=b64_bytes(photo()))
    assert error["extensions"]["code"] == "LOW_QUALITY", error
    assert error["extensions"]["reason"] == reason.value
    assert reason.value in error["extensions"]["reasons"]
    assert await api.counts() == before
    allowed = (await api.ok(ENROL, p=person, b=b64_bytes(photo()), allow=True))["createFace"]
    assert allowed["quality"] is not None
    assert await api.counts() == (before[0], before[1] + 1)


async def test_update_face_checks_the_new_photo(api):
    person = await api.create_person("Update quality")
    face = await api.enrol(person, ANGELINA[0])
    replace = "mutation($id: ID!, $b: String!) { updateFace(id: $id, image: {base64: $b}) { id } }"
    error = await api.error(replace, id=face["id"], b=b64_bytes(blurred(25)))
    assert error["extensions"]["code"] == "LOW_QUALITY"


async def test_probe_quality_is_reported(api):
    data = await api.ok(
        "query($b: String!) { verifyLinear(image: {base64: $b}) { probe { quality { interEyePx sharpness } } } }",
        b=b64(ANGELINA[1]),
    )
    assert data["verifyLinear"]["probe"]["quality"]["interEyePx"] > 20


def test_each_minimum_names_its_issue():
    minimums = QualityMinimums(inter_eye_px=10, sharpness=8, max_abs_yaw_deg=60, detection_score=0.9)
    good = FaceQuality(inter_eye_px=40, sharpness=90, yaw_deg=-10, roll_deg=2, detection_score=0.99)
    assert issues(good, minimums) == []
    assert issues(replace(good, yaw_deg=-75), minimums) == [QualityIssue.POSE]
    assert issues(replace(good, detection_score=0.8), minimums) == [QualityIssue.LOW_CONFIDENCE]
    worst = FaceQuality(inter_eye_px=5, sharpness=1, yaw_deg=80, roll_deg=0, detection_score=0.5)
    assert issues(worst, minimums) == list(QualityIssue)
    # Haar gives no landmarks and no score: only size and sharpness can be judged.
    assert issues(FaceQuality(5, 1, None, None, None), minimums) == [QualityIssue.TOO_SMALL, QualityIssue.BLURRED]
