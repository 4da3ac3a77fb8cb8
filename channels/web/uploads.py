"""Files citizens upload on the portal: photos are re-encoded without their metadata (GPS
position included), PDFs are kept as they are, anything else is refused before it is stored.

A photo's size is read from its header and a photo over ``max_pixels`` (width x height) is
refused before a single pixel is decoded: a 10 KB PNG can claim 8,900 x 8,900 pixels, 240 MB
to decode. Pillow's own decompression-bomb warning is an error here (it only refuses at twice
its limit). Decoding is bounded per process (``slots``): uploads beyond that wait their turn,
so four big photos at once do not take four times the memory.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from hotline.core.storage.files import sniff

PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "PNG"}
# The decoder each sniffed type may use: a file sniffed as PNG is never parsed as anything else.
DECODERS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
MAX_PIXELS = 50_000_000  # the default of HOTLINE_MAX_IMAGE_PIXELS
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.simplefilter("error", Image.DecompressionBombWarning)

_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@contextmanager
def decoding_slot(workers: int) -> Iterator[None]:
    """One of ``workers`` decoding places of this process (a thread waits for one)."""
    with _slots_lock:
        slot = _slots.setdefault(workers, threading.BoundedSemaphore(workers))
    with slot:
        yield


class UploadRefused(ValueError):
    """``code`` is stable for tests and translations; the message names the file."""

    def __init__(self, code: str, filename: str) -> None:
        self.code = code
        self.filename = filename
        super().__init__(f"{filename}: {code}")


@dataclass(frozen=True)
class CleanFile:
    filename: str
    data: bytes
    content_type: str


def clean_upload(
    filename: str,
    data: bytes,
    max_bytes: int,
    *,
    max_pixels: int = MAX_PIXELS,
    workers: int = 1,
) -> CleanFile:
    """A photo re-encoded without metadata, or a PDF as given; else UploadRefused."""
    if not data:
        raise UploadRefused("empty", filename)
    if len(data) > max_bytes:
        raise UploadRefused("too_large", filename)
    kind = sniff(data)
    if kind == "application/pdf":
        return CleanFile(filename, data, kind)
    if kind not in PHOTO_TYPES:
        raise UploadRefused("type_not_allowed", filename)
    fmt = PHOTO_TYPES[kind]
    Image.MAX_IMAGE_PIXELS = max_pixels  # the bomb warning (an error here) at the same limit
    try:
        with Image.open(io.BytesIO(data), formats=[DECODERS[kind]]) as image:
            width, height = image.size  # the header's claim; nothing decoded yet
            if width * height > max_pixels:
                raise UploadRefused("too_many_pixels", filename)
            with decoding_slot(workers):
                out = _reencode(image, fmt)
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRefused("too_many_pixels", filename) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UploadRefused("unreadable_image", filename) from exc
    new_type = "image/png" if fmt == "PNG" else kind
    return CleanFile(filename, out, new_type)


def _reencode(image: Image.Image, fmt: str) -> bytes:
    image.load()
    upright = ImageOps.exif_transpose(image)
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif fmt != "JPEG" and upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA")
    # A fresh image carries no EXIF, XMP or text chunks: nothing but the pixels.
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    out = io.BytesIO()
    clean.save(out, format=fmt, quality=85)
    return out.getvalue()
