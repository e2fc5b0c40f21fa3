"""Decode untrusted image bytes into an RGB uint8 array, within byte and pixel limits."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

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


def decode_image(data: bytes, limits: ImageLimits) -> np.ndarray:
    """Return an (H, W, 3) uint8 RGB array, EXIF orientation applied.

    Raises BadImage or ImageTooLarge with a message fit for the client.
    """
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
