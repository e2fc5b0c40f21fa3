"""Photos in the formats and modes clients send embed like the original photo."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import devdata
from ml.exceptions import ImageTooLarge
from ml.image import ImageLimits, decode_image, decode_photo
from tests.helpers import ANGELINA

# Same photo, another encoding: far closer than the threshold (about 1.2) between people.
SAME_PHOTO_DISTANCE = 0.6


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def original() -> Image.Image:
    image = Image.open(ANGELINA[0]).convert("RGB")
    image.thumbnail((800, 800))
    return image


@pytest.fixture(scope="module")
def reference(pipeline, original):
    return pipeline.run(encode(original, "PNG"))


def variants(original: Image.Image) -> dict[str, bytes]:
    grey = original.convert("L")
    rgba = original.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.full(original.size[::-1], 255, np.uint8)))
    grey16 = Image.fromarray(np.asarray(grey, dtype=np.uint16) * 257)
    return {
        "greyscale jpeg": encode(grey, "JPEG", quality=95),
        "rgba png": encode(rgba, "PNG"),
        "16-bit png": encode(grey16, "PNG"),
        "webp": encode(original, "WEBP", quality=90),
        "bmp": encode(original, "BMP"),
    }


@pytest.mark.parametrize("name", ["greyscale jpeg", "rgba png", "16-bit png", "webp", "bmp"])
def test_format_embeds_like_original(pipeline, original, reference, name):
    result = pipeline.run(variants(original)[name])
    distance = float(np.linalg.norm(result.vector - reference.vector))
    assert distance < SAME_PHOTO_DISTANCE, (name, distance)


def test_sixteen_bit_png_is_scaled_not_clipped(original):
    grey16 = Image.fromarray(np.asarray(original.convert("L"), dtype=np.uint16) * 257)
    decoded = decode_image(encode(grey16, "PNG"), ImageLimits(10 << 20, 40_000_000))
    assert decoded.dtype == np.uint8 and decoded.shape[2] == 3
    assert abs(int(decoded.mean()) - int(np.asarray(original.convert("L")).mean())) <= 1


def test_exif_orientation_is_honoured(pipeline, original, reference):
    # Stored sideways, with EXIF saying "rotate 90 degrees clockwise to display".
    sideways = original.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    result = pipeline.run(encode(sideways, "JPEG", quality=95, exif=exif.tobytes()))
    assert float(np.linalg.norm(result.vector - reference.vector)) < SAME_PHOTO_DISTANCE
    box, upright = result.face.detection.box, reference.face.detection.box
    assert abs(box.x - upright.x) < 0.05 * original.width and abs(box.y - upright.y) < 0.05 * original.height


def test_pixel_limit_is_checked_before_decoding():
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")  # 400 MP in a few kB
    assert len(bomb) < 200_000
    with pytest.raises(ImageTooLarge):
        decode_image(bomb, ImageLimits(10 << 20, 40_000_000))


LIMITS = ImageLimits(10 << 20, 40_000_000)


def test_a_large_jpeg_is_decoded_reduced_for_the_detector():
    data = (devdata.DEEPFACE / "img40.jpg").read_bytes()  # 3061 x 4600
    photo = decode_photo(data, LIMITS, longer_side=640)
    whole = decode_image(data, LIMITS)
    assert photo.reduction == 4.0 and max(photo.pixels.shape[:2]) >= 640
    assert photo.shape == whole.shape and photo.pixels.shape == (1150, 766, 3)
    assert np.array_equal(photo.whole, whole)  # decoded whole only when asked


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_a_reduced_photo_keeps_its_exif_orientation(original, orientation):
    large = original.resize((original.width * 2, original.height * 2))
    exif = Image.Exif()
    exif[0x0112] = orientation
    photo = decode_photo(encode(large, "JPEG", quality=90, exif=exif), LIMITS, longer_side=640)
    assert photo.reduction == 2.0
    assert photo.shape == photo.whole.shape
    assert photo.pixels.shape[0] * 2 == photo.shape[0] and photo.pixels.shape[1] * 2 == photo.shape[1]


def test_small_photos_and_other_formats_are_decoded_whole(original):
    large_png = encode(original.resize((original.width * 2, original.height * 2)), "PNG")
    for data in (encode(original, "JPEG"), large_png):
        photo = decode_photo(data, LIMITS, longer_side=640)
        assert photo.reduction == 1.0 and photo.whole is photo.pixels


def test_a_face_of_a_reduced_photo_is_found_and_cut_in_the_whole_photos_pixels(pipeline):
    """Boxes and landmarks come back in the whole photo's pixels; a small face is cut from the whole photo."""
    group = devdata.DEEPFACE / "couple.jpg"  # 2280 x 1588: decoded at half size
    photo = pipeline.decode(group.read_bytes())
    assert photo.reduction == 2.0
    reduced = pipeline.detect(photo.pixels)
    found = pipeline.detect_photo(photo)
    assert len(found) == len(reduced) >= 2
    for small, whole in zip(reduced, found, strict=True):
        assert abs(whole.box.x - 2 * small.box.x) <= 2 and abs(whole.box.width - 2 * small.box.width) <= 2
        assert np.allclose(whole.landmarks, 2 * small.landmarks)
    located = pipeline.cut_photo(photo, found[0])
    assert located.detection == found[0]  # quality in whole pixels (inter-eye distance)
    assert located.quality.inter_eye_px > 2 * pipeline.cut(photo.pixels, reduced[0]).quality.inter_eye_px * 0.9
    # A face held at the embedder's size by the reduced pixels is cut from them, and embeds like the whole.
    big = max(found, key=lambda d: d.box.area)
    assert big.box.width * 1.2 / 2 >= 160
    from_reduced = pipeline.cut_photo(photo, big)
    from_whole = pipeline.cut(photo.whole, big)
    distance = np.linalg.norm(np.subtract(*pipeline.embedder.embed(np.stack([from_reduced.crop, from_whole.crop]))))
    assert distance < 0.1
