"""Turn a photo as sent (a multipart upload or base64 text) into bytes, within the byte limit, before any decoding.

Base64 of a 10 MB photo takes tens of milliseconds to decode: it runs in a thread,
so that the event loop (and /healthz) stays responsive under many such requests.
"""

from __future__ import annotations

import asyncio
import binascii
import re
from dataclasses import dataclass
from typing import Any

from bounds import base64_chars_max
from errors import invalid
from ml.exceptions import ImageTooLarge

_DATA_URL = re.compile(r"^data:image/[\w.+-]+(;[\w-]+=[\w.-]+)*;base64,", re.IGNORECASE)
_WHITESPACE = b" \t\n\r\x0b\x0c"
_URL_SAFE = bytes.maketrans(b"-_", b"+/")
_SLICE = 256 * 1024  # a multiple of 4: base64 decodes slice by slice


@dataclass(frozen=True)
class Photo:
    """A photo as the client sent it: exactly one of a multipart file part and base64 text."""

    upload: Any = None  # Starlette's UploadFile (or whatever the multipart request carried)
    base64: str | None = None


async def read_image(image: Photo, max_bytes: int) -> bytes:
    # @oneOf makes GraphQL itself refuse neither or both; this holds for any other caller.
    upload, encoded = image.upload, image.base64
    if (upload is None) == (encoded is None):
        raise invalid("give the image exactly one way: `upload` or `base64`")
    if upload is not None:
        data: bytes = await upload.read(max_bytes + 1)
        if not isinstance(data, bytes):  # a plain form field, not a file part
            raise invalid("`upload` must be a file part of a multipart request")
    else:
        assert encoded is not None
        data = await asyncio.to_thread(_decode_base64, encoded, max_bytes)
    if len(data) > max_bytes:
        raise ImageTooLarge(f"the image is over the limit of {max_bytes} bytes")
    return data


def _decode_base64(text: str, max_bytes: int) -> bytes:
    prefix = _DATA_URL.match(text.lstrip())
    if prefix is not None:
        text = text.lstrip()[prefix.end() :]
    elif text.lstrip().startswith("data:"):
        raise invalid("a data URL must be of the form data:image/...;base64,<data>")
    # Refuse oversized input from its length, before decoding it.
    if len(text) > base64_chars_max(max_bytes):
        raise ImageTooLarge(f"the image is over the limit of {max_bytes} bytes")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise invalid("`base64` is not valid base64") from None
    # Standard or URL-safe alphabet, whitespace ignored, padding optional; anything else is
    # refused. Done in slices: C code holds the interpreter lock for the whole of a call,
    # and one call over 10 MB would stall the event loop (and /healthz) for tens of ms.
    raw = b"".join(raw[i : i + _SLICE].translate(_URL_SAFE, _WHITESPACE) for i in range(0, len(raw), _SLICE))
    raw += b"=" * (-len(raw) % 4)
    if raw.find(b"=", 0, len(raw) - 2) != -1:  # padding only at the end (slices would each accept it)
        raise invalid("`base64` is not valid base64")
    try:
        return b"".join(binascii.a2b_base64(raw[i : i + _SLICE], strict_mode=True) for i in range(0, len(raw), _SLICE))
    except (binascii.Error, ValueError):
        raise invalid("`base64` is not valid base64") from None
