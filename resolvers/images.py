"""Turn an ImageInput into bytes, within the byte limit, before any decoding.

Base64 of a 10 MB photo takes tens of milliseconds to decode: it runs in a thread,
so that the event loop (and /healthz) stays responsive under many such requests.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from typing import Any

from ml.errors import ImageTooLarge
from resolvers.errors import invalid
from schema.inputs import ImageInput

_DATA_URL = re.compile(r"^data:image/[\w.+-]+(;[\w-]+=[\w.-]+)*;base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_URL_SAFE = str.maketrans("-_", "+/")


async def read_image(image: ImageInput, max_bytes: int) -> bytes:
    if (image.upload is None) == (image.base64 is None):
        raise invalid("give the image exactly one way: `upload` or `base64`")
    if image.upload is not None:
        upload: Any = image.upload  # Starlette's UploadFile; Strawberry types it as an opaque scalar
        data: bytes = await upload.read(max_bytes + 1)
        if not isinstance(data, bytes):  # a plain form field, not a file part
            raise invalid("`upload` must be a file part of a multipart request")
    else:
        assert image.base64 is not None
        data = await asyncio.to_thread(_decode_base64, image.base64, max_bytes)
    if len(data) > max_bytes:
        raise ImageTooLarge(f"the image is over the limit of {max_bytes} bytes")
    return data


def _decode_base64(text: str, max_bytes: int) -> bytes:
    text = _DATA_URL.sub("", text.strip(), count=1)
    if text.startswith("data:"):
        raise invalid("a data URL must be of the form data:image/...;base64,<data>")
    # Refuse oversized input from its length, before decoding it.
    if len(text) > (max_bytes + 2) // 3 * 4 + 1024:
        raise ImageTooLarge(f"the image is over the limit of {max_bytes} bytes")
    # Standard or URL-safe alphabet, padding optional; anything else is refused.
    text = _WHITESPACE.sub("", text).translate(_URL_SAFE)
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("`base64` is not valid base64") from None
