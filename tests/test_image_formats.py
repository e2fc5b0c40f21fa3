"""Photos in the formats and modes clients send embed like the original photo."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ml.errors import ImageTooLarge
from ml.image import ImageLimits, decode_image
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
