"""What channels noted on a message shows in the workspace: OCR'd fax text is marked as
machine-read, refused e-mail files are named with the reason, HTML mail is said to be shown as
text, and a number mentioned by a stranger is shown without joining the case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient

from hotline.channels.email.inbound import Limits, parse_mail, to_submission
from hotline.core.intake.receive import receive
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission

FIXTURES = Path(__file__).resolve().parents[2] / "channels" / "email" / "fixtures"


def test_the_workspace_shows_what_channels_noted(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx
    raw = (FIXTURES / "27_executable_as_pdf.eml").read_bytes()
    mail = to_submission(parse_mail(raw), raw, purpose="public", limits=Limits(2**20, 10))

    async def make() -> tuple[str, str]:
        await seed_city(ctx)
        by_mail = await receive(ctx, mail)
        fax = await receive(
            ctx,
            submission(
                channel="fax",
                text="市政府门前道路积水严重",
                contacts=[],
                meta={"machine_read": True, "pages": 2, "ocr": "tesseract"},
            ),
        )
        return by_mail.tracking_number, fax.tracking_number

    mail_case, fax_case = client.blocking_portal.call(make)
    sign_in(client, "agent1")
    page = BeautifulSoup(client.get(f"/console/cases/{mail_case}").text, "html.parser")
    refused = page.select_one("#interactions .refused-files").get_text()
    assert "report.pdf" in refused and "a type the hotline does not accept" in refused
    page = BeautifulSoup(client.get(f"/console/cases/{fax_case}").text, "html.parser")
    marked = page.select_one("#interactions .machine-read").get_text()
    assert "OCR" in marked and "2 page" in marked
