"""Agents record contacts from outside the system: each goes through intake with its channel."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.storage.models.cases import Attachment, Case, ContactPoint, Interaction
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import PDF


def test_a_letter_with_its_scan_becomes_a_case(client: TestClient[Any]) -> None:
    client.blocking_portal.call(seed_city, client.app.state.ctx)
    sign_in(client, "agent1")
    form = client.get("/console/record")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)
    done = client.post(
        "/console/record",
        data={
            "_csrf_token": token,
            "channel": "postal",
            "category": "pothole",
            "text": "来信反映人民路坑洼",
            "name": "赵敏",
            "address": "人民路8号",
        },
        files={"scan": ("letter.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/console/cases/")
    number = done.headers["location"].rsplit("/", 1)[-1]

    async def stored() -> tuple[Case | None, list[str], list[str], dict[str, Any]]:
        async with client.app.state.ctx.db.session() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == number))
            kinds = list(
                await s.scalars(
                    select(ContactPoint.kind).where(ContactPoint.citizen_id == case.citizen_id)
                )
            )
            files = list(await s.scalars(select(Attachment.content_type)))
            meta = await s.scalar(select(Interaction.meta).where(Interaction.case_id == case.id))
            return case, kinds, files, meta

    case, kinds, files, meta = client.blocking_portal.call(stored)
    assert case is not None and case.first_channel == "postal" and case.category_id is not None
    assert kinds == ["postal"] and files == ["application/pdf"] and meta["recorded_by"] == "agent1"


def test_recording_is_for_roles_that_edit_cases(client: TestClient[Any]) -> None:
    sign_in(client, "supervisor1")
    assert client.get("/console/record").status_code == 403
