"""Decode untrusted image bytes into an RGB uint8 array, within byte, pixel and work limits.

Bytes and pixels are not the whole cost of a decode: a progressive JPEG may repeat
its scans thousands of times over the same pixels (each a full pass), and a PNG,
WEBP, TIFF or GIF of a single colour holds 40 megapixels in 100 KB. Both are refused
from the header and the bytes before a pixel is decoded; memory a large decode took
is handed back to the system afterwards.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ml.exceptions import BadImage, ImageTooComplex, ImageTooLarge

# Formats a camera or browser sends; anything else (PDF, PSD, EPS, ...) is refused
# before Pillow's more exotic decoders ever see the bytes.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")


# A baseline JPEG has one scan and a progressive one about ten (libjpeg's default script), a few more
# with an EXIF thumbnail; each scan is another pass over every pixel.
JPEG_SCANS_MAX = 100
# Photos compress to a few pixels per byte (a 12 MP JPEG of 3 MB: 4); a synthetic image of flat colour
# to thousands. Past this ratio, and beyond a size whose decode costs little anyway, the image is refused.
PIXELS_PER_BYTE_MAX = 64
RATIO_CHECK_FROM_PIXELS = 2_000_000
# After decoding more than this many pixels, the allocator's free memory goes back to the system.
TRIM_AFTER_PIXELS = 4_000_000

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
    # Checked from the header and the bytes, before a single pixel is decoded.
    width, height = image.size
    if width * height > limits.max_pixels:
        raise ImageTooLarge(f"the image is {width}x{height} pixels; the limit is {limits.max_pixels} pixels")
    if width == 0 or height == 0:
        raise BadImage("the image has no pixels")
    if width * height > max(RATIO_CHECK_FROM_PIXELS, PIXELS_PER_BYTE_MAX * len(data)):
        raise ImageTooLarge(
            f"the image is {width}x{height} pixels in {len(data)} bytes, more than {PIXELS_PER_BYTE_MAX} pixels "
            "per byte: no photo compresses that far (a decompression bomb?)"
        )
    if image.format == "JPEG" and (scans := jpeg_scans(data)) > JPEG_SCANS_MAX:
        raise ImageTooComplex(
            f"the JPEG has {scans} scans; at most {JPEG_SCANS_MAX} are decoded (a progressive JPEG has about "
            "ten): send it as a baseline JPEG"
        )
    return image


def jpeg_scans(data: bytes) -> int:
    """How many scans (SOS markers) the JPEG holds.

    Inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker,
    so every FF DA is a start of scan (an embedded EXIF thumbnail's included).
    """
    return data.count(b"\xff\xda")


def _load(image: Image.Image) -> np.ndarray:
    try:
        image.load()
        pixels = _to_rgb(ImageOps.exif_transpose(image))
    except _DECODE_ERRORS as exc:
        raise BadImage("the image is truncated or corrupt") from exc
    if image.size[0] * image.size[1] > TRIM_AFTER_PIXELS:
        image.close()
        _trim_heap()
    return pixels


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, where the C library has it."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_MALLOC_TRIM = _malloc_trim()


def _trim_heap() -> None:
    """Give the allocator's free pages back: a decode's buffers are freed into thread arenas that
    glibc keeps, so each large photo would otherwise leave the process hundreds of MB larger."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


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
