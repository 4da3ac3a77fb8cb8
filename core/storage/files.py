"""Content-addressed file storage under ``<data dir>/files``; types come from the bytes, not names."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import filetype

# What the hotline accepts from citizens; a channel may narrow it, never widen it silently.
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "image/tiff",
        "application/pdf",
        "audio/x-wav",
        "audio/wav",
        "audio/mpeg",
        "audio/ogg",
        "audio/amr",
        "audio/mp4",
        "video/mp4",
        "text/plain",
    }
)


def sniff(data: bytes) -> str | None:
    """The type the content shows, or ``text/plain`` for clean UTF-8 text, else None."""
    kind = filetype.guess(data)
    if kind is not None:
        return str(kind.mime)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    return "text/plain"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    """Writes each distinct content once, atomically; the name is its sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        target = self.path(digest)
        if target.exists():
            os.utime(target)  # in use again: a purge that began before now leaves it
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def discard(self, digest: str, unused_since: float) -> None:
        """Remove content no record refers to any more (the caller checked), unless it was
        stored again after ``unused_since`` (a time.time())."""
        target = self.path(digest)
        try:
            if target.stat().st_mtime < unused_since:
                target.unlink()
        except FileNotFoundError:
            pass

    def get(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()
