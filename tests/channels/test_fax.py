"""Faxes: real G3 fax TIFFs made from text by Ghostscript's tiffg3 device, read by tesseract
(Chinese and English), arriving by the fax gateway's mail or in the spool directory; each
becomes one case with the fax kept as received and as a PDF, its text marked machine-read and
the sender's fax number as the contact. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aioimaplib
import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from hotline.channels.email.listener import Mailbox, read_mailbox
from hotline.channels.fax import read_spool
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import AppContext, Kernel, open_context
from hotline.core.storage.models.cases import Attachment, Case, ContactPoint, Interaction
from hotline.core.storage.models.intake import HeldMessage
from tests.conftest import need
from tests.mailservers import Dovecot

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
LINES = ("市政府门前道路积水严重", "Road flooding at City Hall")


def need_ocr() -> None:
    need(shutil.which("tesseract") is not None, "tesseract (Debian tesseract-ocr)")
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    need("chi_sim" in langs, "tesseract's Chinese (Debian tesseract-ocr-chi-sim)")
    need(shutil.which("gs") is not None, "Ghostscript (Debian ghostscript)")
    need(FONT.exists(), "a Chinese font (Debian fonts-noto-cjk)")


def g3_fax(tmp_path: Path, pages: int = 1) -> bytes:
    """A real fax image: text drawn on A4 at 200 dpi, made G3 by Ghostscript's tiffg3 device."""
    font = ImageFont.truetype(str(FONT), 56)
    images = []
    for page in range(pages):
        image = Image.new("L", (1654, 2339), 255)
        draw = ImageDraw.Draw(image)
        for number, line in enumerate(LINES):
            draw.text((120, 200 + 120 * number), line, font=font, fill=0)
        draw.text((120, 500), f"{page + 1}/{pages}", font=font, fill=0)
        images.append(image)
    pdf = tmp_path / "letter.pdf"
    images[0].save(pdf, save_all=True, append_images=images[1:], resolution=200)
    tiff = tmp_path / "fax.tif"
    command = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=tiffg3", "-r204x196"]
    subprocess.run(
        [*command, f"-sOutputFile={tiff}", str(pdf)],
        check=True,
        capture_output=True,
    )
    data = tiff.read_bytes()
    assert data[:4] in (b"II*\x00", b"MM\x00*")
    assert Image.open(tiff).info.get("compression") in ("group3", "group4")
    return data


@pytest.fixture
async def fax_ctx(settings: Settings, tmp_path: Path) -> AsyncIterator[AppContext]:
    spool = tmp_path / "spool"
    spool.mkdir()
    configured = settings.model_copy(update={"fax_spool_dir": str(spool)})
    async with open_context(configured, Kernel(configured)) as context:
        yield context


async def _case_with_files(ctx: AppContext) -> tuple[Case, Interaction, list[Attachment], str]:
    async with ctx.db.session() as s:
        case = await s.scalar(select(Case))
        assert case is not None
        message = await s.scalar(select(Interaction).where(Interaction.case_id == case.id))
        assert message is not None
        files = list(
            await s.scalars(select(Attachment).where(Attachment.interaction_id == message.id))
        )
        contact = await s.scalar(select(ContactPoint.value).where(ContactPoint.kind == "fax"))
    return case, message, files, contact or ""


async def test_a_spooled_fax_becomes_one_read_case(
    fax_ctx: AppContext, city: dict[str, int], tmp_path: Path
) -> None:
    need_ocr()
    ctx = fax_ctx
    spool = Path(ctx.settings.fax_spool_dir)
    data = g3_fax(tmp_path, pages=2)
    (spool / "fax000123.tif").write_bytes(data)
    (spool / "fax000123.tif.json").write_text(json.dumps({"from": "010 6512 3456"}))
    (spool / "broken.tif").write_bytes(b"II*\x00 not really a tiff")
    counts = await read_spool(ctx)
    assert counts == {"cases": 1, "held": 1}
    case, message, files, contact = await _case_with_files(ctx)
    assert case.first_channel == "fax" and message.meta["machine_read"] is True
    assert message.meta["pages"] == 2
    assert "积水" in message.text and "flooding" in message.text.lower()
    assert sorted((f.filename, f.content_type) for f in files) == [
        ("fax000123.pdf", "application/pdf"),
        ("fax000123.tif", "image/tiff"),
    ]
    assert contact == "+861065123456"
    assert (spool / "done" / "fax000123.tif").exists()
    assert (spool / "held" / "broken.tif").exists()
    async with ctx.db.session() as s:
        held = await s.scalar(select(HeldMessage))
    assert held is not None and held.channel == "fax" and "fax not read" in held.reason
    # the same fax dropped again is the same case
    (spool / "again.tif").write_bytes(data)
    assert (await read_spool(ctx))["cases"] == 1
    async with ctx.db.session() as s:
        assert len(list(await s.scalars(select(Case.id)))) == 1
    # a person asks for the held file again: still not a fax; the good one is known already
    broken = (spool / "held" / "broken.tif").read_bytes()
    assert await ctx.pm.hook.process_held(ctx=ctx, channel="fax", raw=broken, source="spool") == (
        "held"
    )
    assert await ctx.pm.hook.process_held(ctx=ctx, channel="fax", raw=data, source="spool") == (
        "duplicate"
    )


async def test_a_fax_by_the_gateways_mail(
    settings: Settings, dovecot: Dovecot, city: dict[str, int], tmp_path: Path
) -> None:
    need_ocr()
    account = dovecot.add_user()
    configured = settings.model_copy(update={"imap_fax_url": dovecot.url(*account)})
    mail = EmailMessage()
    mail["From"] = "HylaFAX <fax@gateway.example.cn>"
    mail["To"] = "fax@hotline.example.cn"
    mail["Subject"] = "Facsimile received from +86 10 6512 3456"
    mail["Message-ID"] = "<fax-1@gateway.example.cn>"
    mail["Auto-Submitted"] = "auto-generated"  # a gateway is a machine: the fax counts
    mail.set_content("A 1-page fax was received.")
    mail.add_attachment(g3_fax(tmp_path), maintype="image", subtype="tiff", filename="fax1.tif")
    async with open_context(configured, Kernel(configured)) as ctx:
        box = Mailbox.from_url("fax", configured.imap_fax_url)
        imap = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=10)
        await imap.wait_hello_from_server()
        await imap.login(box.username, box.password)
        await imap.append(mail.as_bytes(), mailbox="INBOX")
        await imap.logout()
        assert (await read_mailbox(ctx, box)).outcomes == {"case": 1}
        assert (await read_mailbox(ctx, box)).fetched == 0
        case, message, files, contact = await _case_with_files(ctx)
    assert case.first_channel == "fax" and "积水" in message.text
    assert contact == "+861065123456" and len(files) == 2
