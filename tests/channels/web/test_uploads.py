"""Decompression bombs: a tiny file claiming huge dimensions is refused from its header, before
a pixel is decoded, and nothing is stored; decoding is bounded per process."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image

from hotline.channels.web import uploads
from hotline.channels.web.uploads import UploadRefused, clean_upload
from tests.channels.web.conftest import csrf, stored


def png_bomb(width: int = 8_900, height: int = 8_900) -> bytes:
    """A valid PNG header with huge dimensions and a few bytes of (compressible) data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compressobj(9)
    data = rows.compress(b"\x00" * (width + 1) * 64) + rows.flush()  # 64 rows; the rest missing
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def gif_bomb(width: int = 65_000, height: int = 65_000) -> bytes:
    small = io.BytesIO()
    Image.new("P", (1, 1)).save(small, format="GIF")
    raw = bytearray(small.getvalue())
    raw[6:10] = struct.pack("<HH", width, height)  # the logical screen
    at = raw.index(b"\x2c")  # the image descriptor
    raw[at + 5 : at + 9] = struct.pack("<HH", width, height)
    return bytes(raw)


def webp_bomb(width: int = 16_000, height: int = 16_000) -> bytes:
    small = io.BytesIO()
    Image.new("RGB", (16, 16)).save(small, format="WEBP", lossless=True)
    raw = bytearray(small.getvalue())
    assert raw[12:16] == b"VP8L"
    bits = (width - 1) | ((height - 1) << 14)  # 14 bits each after the signature byte
    raw[21:25] = struct.pack("<I", bits | (int.from_bytes(raw[21:25], "little") & ~0x0FFFFFFF))
    return bytes(raw)


BOMBS = {"png": png_bomb, "gif": gif_bomb, "webp": webp_bomb}


@pytest.mark.parametrize("kind", list(BOMBS))
def test_a_bomb_is_refused_from_its_header_before_decoding(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = BOMBS[kind]()
    assert len(data) < 20_000  # tiny file...
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with Image.open(io.BytesIO(data)) as claimed:
        assert claimed.size[0] * claimed.size[1] > 50_000_000  # ...huge picture

    def never(*_: Any) -> bytes:
        raise AssertionError("decoded")

    monkeypatch.setattr(uploads, "_reencode", never)
    with pytest.raises(UploadRefused) as refused:
        clean_upload("bomb." + kind, data, 10 * 1024 * 1024, max_pixels=50_000_000)
    assert refused.value.code == "too_many_pixels"


def test_tiff_is_not_accepted_at_all() -> None:
    tiff = io.BytesIO()
    Image.new("L", (8, 8)).save(tiff, format="TIFF")
    with pytest.raises(UploadRefused) as refused:
        clean_upload("scan.tif", tiff.getvalue(), 10 * 1024 * 1024)
    assert refused.value.code == "type_not_allowed"


def test_a_photo_under_the_limit_is_still_taken() -> None:
    photo = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 120, 200)).save(photo, format="PNG")
    clean = clean_upload("ok.png", photo.getvalue(), 10 * 1024 * 1024, max_pixels=1_000_000)
    assert clean.content_type == "image/png"
    with pytest.raises(UploadRefused) as refused:
        clean_upload("big.png", photo.getvalue(), 10 * 1024 * 1024, max_pixels=100_000)
    assert refused.value.code == "too_many_pixels"


@pytest.mark.parametrize("kind", list(BOMBS))
def test_the_portal_refuses_a_bomb_by_name_and_stores_nothing(
    client: TestClient[Any], kind: str
) -> None:
    before = stored(client)
    answer = client.post(
        "/services/pothole",
        data={
            "_csrf_token": csrf(client, "/services/pothole"),
            "description": "人民路有个大坑",
            "phone": "13800138000",
            "consent": "yes",
        },
        files={"files": (f"street.{kind}", BOMBS[kind](), "application/octet-stream")},
    )
    assert answer.status_code == 422
    assert f"street.{kind} has too many pixels" in answer.text
    assert stored(client) == before


def test_decoding_is_bounded_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four photos at once with one decoding place: never two decodes at the same time."""
    inside, most = 0, 0
    lock = threading.Lock()
    real = uploads._reencode

    def counting(image: Any, fmt: str) -> bytes:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)
        try:
            return real(image, fmt)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(uploads, "_reencode", counting)
    photo = io.BytesIO()
    Image.new("RGB", (64, 64)).save(photo, format="PNG")
    for workers, expected in ((1, 1), (2, 2)):
        most = 0
        threads = [
            threading.Thread(
                target=clean_upload,
                args=("p.png", photo.getvalue(), 1 << 20),
                kwargs={"workers": workers},
            )
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert most == expected
