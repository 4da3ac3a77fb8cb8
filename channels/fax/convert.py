"""Fax images: kept as received, made a PDF for viewing, read with tesseract. I/O only.

TIFF (G3/G4, one page or many) becomes a PDF with Pillow; a PDF stays as it is. Text is read
by Debian's tesseract (simplified Chinese and English) on each page, TIFF pages directly, PDF
pages after Ghostscript renders them at fax resolution. Runs in a worker thread, never on the
event loop; a missing engine gives no text and says so, it never loses the fax.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence

OCR_LANGUAGES = "chi_sim+eng"
OCR_TIMEOUT = 120  # seconds per fax


class FaxUnreadable(ValueError):
    """Not a TIFF or PDF image we can open; the reason says why."""


@dataclass(frozen=True)
class Reading:
    text: str
    pages: int
    seconds: float
    engine: str  # "tesseract", or why there is no text


def tiff_pages(data: bytes) -> list[Image.Image]:
    try:
        image = Image.open(io.BytesIO(data))
        return [page.convert("L") for page in ImageSequence.Iterator(image)]
    except (OSError, ValueError) as exc:
        raise FaxUnreadable(f"not a readable TIFF: {exc}") from exc


def to_pdf(data: bytes, content_type: str) -> bytes:
    """The fax as a PDF for viewing in a browser."""
    if content_type == "application/pdf":
        return data
    pages = tiff_pages(data)
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=200)
    return out.getvalue()


def _run(command: list[str]) -> bytes:
    """A program of ours on a file of ours in our own temporary folder (no shell)."""
    done = subprocess.run(command, capture_output=True, timeout=OCR_TIMEOUT, check=True)  # noqa: S603
    return done.stdout


def _tesseract(engine: str, path: Path) -> str:
    return _run([engine, str(path), "stdout", "-l", OCR_LANGUAGES, "--psm", "3"]).decode(
        "utf-8", errors="replace"
    )


def read_text(data: bytes, content_type: str) -> Reading:
    """The fax's text, page after page, with how long it took."""
    start = time.perf_counter()
    engine = shutil.which("tesseract")
    if engine is None:
        return Reading("", 0, 0.0, "no OCR engine installed (tesseract-ocr)")
    with tempfile.TemporaryDirectory(prefix="hotline-fax-") as tmp:
        folder = Path(tmp)
        if content_type == "application/pdf":
            renderer = shutil.which("gs")
            if renderer is None:
                return Reading("", 0, 0.0, "no PDF renderer installed (ghostscript)")
            source = folder / "fax.pdf"
            source.write_bytes(data)
            pages_at = folder / "page-%03d.tif"
            _run(
                [
                    renderer,
                    "-q",
                    "-dSAFER",
                    "-dBATCH",
                    "-dNOPAUSE",
                    "-sDEVICE=tiffg4",
                    "-r204x196",
                    f"-sOutputFile={pages_at}",
                    str(source),
                ]
            )
            files = sorted(folder.glob("page-*.tif"))
        else:
            pages = tiff_pages(data)
            files = []
            for number, page in enumerate(pages, start=1):
                path = folder / f"page-{number:03d}.png"
                page.save(path)
                files.append(path)
        texts = [_tesseract(engine, path).strip() for path in files]
    text = "\n\n".join(t for t in texts if t)
    return Reading(text, len(files), time.perf_counter() - start, "tesseract")
