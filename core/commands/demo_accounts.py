"""One staff account per role for the demo city (``hotline demo-data``), so that a newcomer can
sign in as each role. Demo only: the passwords are printed once by the command and kept only as
hashes; an account already there keeps its password."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.core.people.accounts import add_user
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import Role
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.reference import Department

ACCOUNTS = (
    ("demo-agent", Role.AGENT, "演示坐席 Demo Agent"),
    ("demo-team-leader", Role.TEAM_LEADER, "演示班长 Demo Team Leader"),
    ("demo-department", Role.DEPARTMENT_OFFICER, "演示部门经办 Demo Department Officer"),
    ("demo-department-head", Role.DEPARTMENT_HEAD, "演示部门负责人 Demo Department Head"),
    ("demo-director-office", Role.DIRECTOR_OFFICE, "演示局长信箱 Demo Director's Office"),
    ("demo-supervisor", Role.SUPERVISOR, "演示督办 Demo Supervisor"),
    ("demo-admin", Role.ADMINISTRATOR, "演示管理员 Demo Administrator"),
)
DEPARTMENT_ROLES = (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD)


async def busiest_department(ctx: AppContext) -> int | None:
    """The department with the most demo cases (so its accounts have work to see)."""
    async with ctx.db.session() as session:
        found = await session.scalar(
            select(Case.department_id)
            .where(Case.department_id.is_not(None))
            .group_by(Case.department_id)
            .order_by(func.count().desc(), Case.department_id)
            .limit(1)
        )
        if found is None:
            found = await session.scalar(select(Department.id).order_by(Department.id).limit(1))
    return int(found) if found is not None else None


async def add_demo_accounts(ctx: AppContext) -> list[tuple[str, Role, str | None]]:
    """(user name, role, password or None when the account was there already), per role."""
    department_id = await busiest_department(ctx)
    made: list[tuple[str, Role, str | None]] = []
    for username, role, display in ACCOUNTS:
        password = await add_user(
            ctx,
            username,
            role,
            display,
            department_id=department_id if role in DEPARTMENT_ROLES else None,
        )
        made.append((username, role, password))
    return made
