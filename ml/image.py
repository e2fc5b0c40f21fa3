"""Decode untrusted image bytes into an RGB uint8 array, within byte and pixel limits."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ml.errors import BadImage, ImageTooLarge

# Formats a camera or browser sends; anything else (PDF, PSD, EPS, ...) is refused
# before Pillow's more exotic decoders ever see the bytes.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")


# What Pillow's decoders raise on broken input.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int


@dataclass
class Photo:
    """A decoded photo whose pixels may be a reduced copy; the whole one is decoded when asked for.

    A JPEG far larger than the detector needs is decoded at 1/2, 1/4 or 1/8 of its size
    (libjpeg's DCT scaling, Pillow's draft mode): a fraction of the decoding work, and
    no large copy to shrink afterwards.
    """

    data: bytes = field(repr=False)
    limits: ImageLimits
    pixels: np.ndarray  # (h, w, 3) uint8 RGB, EXIF orientation applied
    reduction: float  # the photo's pixels per pixel of `pixels`: 1.0 when decoded whole
    shape: tuple[int, int, int]  # the whole photo's (height, width, 3), EXIF orientation applied

    @cached_property
    def whole(self) -> np.ndarray:
        return self.pixels if self.reduction == 1.0 else decode_image(self.data, self.limits)


def decode_photo(data: bytes, limits: ImageLimits, longer_side: int) -> Photo:
    """The photo, reduced (JPEGs only) as far as its longer side stays at least `longer_side`."""
    image = _open(data, limits)
    width, height = image.size
    if image.format == "JPEG" and max(width, height) >= 2 * longer_side:
        # draft() picks the largest reduction whose size is still at least the one asked for.
        factor = longer_side / max(width, height)
        try:
            image.draft(image.mode, (max(1, int(width * factor)), max(1, int(height * factor))))
        except _DECODE_ERRORS as exc:
            raise BadImage("the image is truncated or corrupt") from exc
    reduction = max(width, height) / max(image.size)
    pixels = _load(image)
    # exif_transpose (in _load) turned the pixels; the whole photo's shape turns with them.
    turned = pixels.shape[:2] != (image.size[1], image.size[0])
    shape = (width, height, 3) if turned else (height, width, 3)
    return Photo(data, limits, pixels, reduction, shape)


def decode_image(data: bytes, limits: ImageLimits) -> np.ndarray:
    """Return an (H, W, 3) uint8 RGB array, EXIF orientation applied.

    Raises BadImage or ImageTooLarge with a message fit for the client.
    """
    return _load(_open(data, limits))


def _open(data: bytes, limits: ImageLimits) -> Image.Image:
    """The image, its header read and checked against the limits; no pixel decoded yet."""
    if not data:
        raise BadImage("the image is empty")
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"the image is {len(data)} bytes; the limit is {limits.max_bytes}")
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except UnidentifiedImageError as exc:
        raise BadImage(f"not an image, or not one of: {', '.join(ALLOWED_FORMATS)}") from exc
    except Image.DecompressionBombError as exc:  # Pillow's own, far larger, limit
        raise ImageTooLarge("the image has too many pixels") from exc
    except _DECODE_ERRORS as exc:  # a header that starts right and then breaks off
        raise BadImage("the image is truncated or corrupt") from exc
    # Checked from the header, before a single pixel is decoded.
    width, height = image.size
    if width * height > limits.max_pixels:
        raise ImageTooLarge(f"the image is {width}x{height} pixels; the limit is {limits.max_pixels} pixels")
    if width == 0 or height == 0:
        raise BadImage("the image has no pixels")
    return image


def _load(image: Image.Image) -> np.ndarray:
    try:
        image.load()
        return _to_rgb(ImageOps.exif_transpose(image))
    except _DECODE_ERRORS as exc:
        raise BadImage("the image is truncated or corrupt") from exc


def _to_rgb(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey: scale to 8 bits rather than clip (Pillow's convert clips).
        grey = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if mode.startswith("I;16") or grey.max() > 255 else 255.0
        grey8 = np.clip(grey * (255.0 / peak), 0, 255).astype(np.uint8)
        return np.repeat(grey8[:, :, None], 3, axis=2)
    if mode == "F":
        grey8 = np.clip(np.asarray(image, dtype=np.float32), 0, 255).astype(np.uint8)
        return np.repeat(grey8[:, :, None], 3, axis=2)
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if mode in ("RGBA", "LA", "PA") or image.mode == "RGBA":
        # Transparent areas become white rather than black, as a viewer shows them.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8)
