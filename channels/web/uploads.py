"""Files citizens upload on the portal: photos are re-encoded without their metadata (GPS
position included), PDFs are kept as they are, anything else is refused before it is stored."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from hotline.core.storage import sniff

PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "PNG"}
MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


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


def clean_upload(filename: str, data: bytes, max_bytes: int) -> CleanFile:
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
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            fmt = PHOTO_TYPES[kind]
            if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            elif fmt != "JPEG" and upright.mode not in ("RGB", "RGBA", "L", "LA"):
                upright = upright.convert("RGBA")
            # A fresh image carries no EXIF, XMP or text chunks: nothing but the pixels.
            clean = Image.new(upright.mode, upright.size)
            clean.paste(upright)
            out = io.BytesIO()
            clean.save(out, format=fmt, quality=85)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UploadRefused("unreadable_image", filename) from exc
    new_type = "image/png" if fmt == "PNG" else kind
    return CleanFile(filename, out.getvalue(), new_type)
