"""Who may read a case, beyond the role's permissions: a department reads a case (its page, its
files, its citizen's masked contact) only while it holds an open assignment on it (dispatched,
signed for, or replied and waiting for the hotline's review). Once it returned the case, or its
part is done or closed, its rights on that case end with it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.models.workflow import Assignment
from hotline.core.workflow.common import OPEN_STATES


async def department_holds(session: AsyncSession, case_id: int, department_id: int) -> bool:
    """Does the department hold an open assignment on the case now?"""
    found = await session.scalar(
        select(Assignment.id)
        .where(
            Assignment.case_id == case_id,
            Assignment.department_id == department_id,
            Assignment.state.in_(OPEN_STATES),
        )
        .limit(1)
    )
    return found is not None
