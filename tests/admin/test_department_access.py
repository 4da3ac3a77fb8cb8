"""A department's rights on a case follow its open assignment: while the case is with it
(dispatched, signed for, replied and waiting for review) its people read the case, its files
and, for a direct callback, the contact; once it returned the case, or its part is done or
closed, every one of those reads is refused."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from hotline.core.intake.receive import receive
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import Role
from hotline.core.storage.models.cases import Attachment, Interaction
from hotline.core.storage.models.people import User
from hotline.core.storage.models.workflow import Assignment
from hotline.core.workflow.dispatch import (
    do_department_reply,
    do_dispatch,
    do_return,
    do_review,
    do_sign_for,
)
from hotline.core.workflow.linking import do_merge
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import PNG, submission

Step = Callable[[Any, int, int, str], Awaitable[Any]]


async def _nothing(ctx: Any, case_id: int, roads: int, other: str) -> None:
    return None


async def _signed(ctx: Any, case_id: int, roads: int, other: str) -> None:
    await do_sign_for(ctx, case_id, roads, SYSTEM)


async def _replied(ctx: Any, case_id: int, roads: int, other: str) -> None:
    await _signed(ctx, case_id, roads, other)
    await do_department_reply(ctx, case_id, roads, "已修复。", SYSTEM)


async def _returned(ctx: Any, case_id: int, roads: int, other: str) -> None:
    await do_return(ctx, case_id, roads, "不属于本局职责", SYSTEM)


async def _done(ctx: Any, case_id: int, roads: int, other: str) -> None:
    await _replied(ctx, case_id, roads, other)
    await do_review(ctx, case_id, True, SYSTEM)


async def _merged(ctx: Any, case_id: int, roads: int, other: str) -> None:
    await do_merge(ctx, case_id, other, SYSTEM)


STATES: dict[str, tuple[Step, bool]] = {
    "dispatched": (_nothing, True),
    "accepted": (_signed, True),
    "replied": (_replied, True),
    "returned": (_returned, False),
    "done": (_done, False),
    "closed": (_merged, False),
}


@pytest.mark.parametrize("role", [Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD])
@pytest.mark.parametrize("state", list(STATES))
def test_a_departments_reads_follow_its_open_assignment(
    client: TestClient[Any], role: Role, state: str
) -> None:
    ctx = client.app.state.ctx
    step, readable = STATES[state]

    async def setup() -> tuple[str, int]:
        city = await seed_city(ctx)
        async with ctx.db.transaction() as s:
            await s.execute(
                update(User)
                .where(User.role.in_([Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD]))
                .values(department_id=city["roads"])
            )
        other = await receive(ctx, submission(contacts=[{"kind": "phone", "value": "13900002222"}]))
        case = await receive(
            ctx,
            submission(
                attachments=[{"filename": "hole.png", "content_type": "image/png", "data": PNG}]
            ),
        )
        await do_dispatch(ctx, case.case_id, "roads", SYSTEM, direct_callback=True)
        await step(ctx, case.case_id, city["roads"], other.tracking_number)
        async with ctx.db.session() as s:
            states = list(
                await s.scalars(select(Assignment.state).where(Assignment.case_id == case.case_id))
            )
            assert states[-1] == state
            attachment = await s.scalar(
                select(Attachment.id)
                .join(Interaction, Interaction.id == Attachment.interaction_id)
                .where(Interaction.case_id == case.case_id)
            )
        return case.tracking_number, int(attachment)

    number, attachment = client.blocking_portal.call(setup)
    sign_in(client, f"{role.value}1")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text)[1]
    reads = {
        "case page": client.get(f"/console/department/cases/{number}").status_code,
        "file": client.get(f"/console/files/{attachment}").status_code,
    }
    if role == Role.DEPARTMENT_HEAD:
        reads["contact"] = client.post(
            f"/console/department/contact/{number}", data={"_csrf_token": token}
        ).status_code
    expected = 200 if readable else 403
    assert reads == dict.fromkeys(reads, expected), (state, reads)
    todo = client.get("/console/department").text.replace(" ", "")
    assert (number in todo) == (state in ("dispatched", "accepted"))
