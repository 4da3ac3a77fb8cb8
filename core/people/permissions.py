"""What each role may do, as the hotline is organised. Least privilege: a role gets only the
functions its work needs; the console checks every endpoint against this table.

Grants are per role here; administrators add overrides on top (``PermissionGrant``): for a
unit (a department, optionally one role in it), then for one user. The nearer one wins: user
over unit over role.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from hotline.core.storage.enums import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.core.storage.models.people import User


class Permission(StrEnum):
    CONSOLE = "console"  # sign in to the console at all
    QUEUE_WORK = "queue.work"  # take contacts from the AXD queue
    QUEUE_MANAGE = "queue.manage"  # move items, sign agents out (team leader)
    CASE_READ = "case.read"  # read cases of the hotline (personal data is audited)
    CASE_EDIT = "case.edit"  # classify, summarise, answer on the spot; correct a citizen's record
    CITIZEN_MERGE = "citizen.merge"  # merge two records of the same person
    DEPARTMENT_HANDLE = "department.handle"  # sign for, handle, reply to, return routed cases
    DEPARTMENT_APPROVE = "department.approve"  # a department head's approvals
    CONTACT_UNMASK = "contact.unmask"  # see a citizen's contact when a case needs a direct call
    DIRECTOR_MAILBOX = "director.mailbox"  # read the sealed director's mailbox
    MAILBOX_COUNTS = "mailbox.counts"  # the director's mailbox as numbers and deadlines only
    SUPERVISE = "supervise"  # urge, supervise, approve extensions, reports, audit search
    WALLBOARD = "wallboard"  # the wallboard: the centre's live figures, no personal data
    REPORTS = "reports"  # reports, each reader's own scope (centre, department, own work)
    ADMINISTER = "administer"  # users, roles, routing rules, calendars, settings


ROLE_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(
        {
            Permission.CONSOLE,
            Permission.QUEUE_WORK,
            Permission.CASE_READ,
            Permission.CASE_EDIT,
            Permission.REPORTS,
        }
    ),
    Role.TEAM_LEADER: frozenset(
        {
            Permission.CONSOLE,
            Permission.QUEUE_WORK,
            Permission.QUEUE_MANAGE,
            Permission.CASE_READ,
            Permission.CASE_EDIT,
            Permission.CITIZEN_MERGE,
            Permission.WALLBOARD,
            Permission.REPORTS,
        }
    ),
    Role.DEPARTMENT_OFFICER: frozenset(
        {Permission.CONSOLE, Permission.DEPARTMENT_HANDLE, Permission.REPORTS}
    ),
    Role.DEPARTMENT_HEAD: frozenset(
        {
            Permission.CONSOLE,
            Permission.DEPARTMENT_HANDLE,
            Permission.DEPARTMENT_APPROVE,
            Permission.CONTACT_UNMASK,
            Permission.REPORTS,
        }
    ),
    Role.DIRECTOR_OFFICE: frozenset(
        {
            Permission.CONSOLE,
            Permission.DIRECTOR_MAILBOX,
            Permission.MAILBOX_COUNTS,
            Permission.REPORTS,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            Permission.CONSOLE,
            Permission.CASE_READ,
            Permission.SUPERVISE,
            Permission.QUEUE_MANAGE,
            Permission.MAILBOX_COUNTS,
            Permission.WALLBOARD,
            Permission.REPORTS,
        }
    ),
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.CONSOLE,
            Permission.ADMINISTER,
            Permission.MAILBOX_COUNTS,
            Permission.WALLBOARD,
        }
    ),
}


def allowed(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_GRANTS[Role(role)]
    except ValueError:
        return False


async def effective(session: AsyncSession, user: User) -> frozenset[Permission]:
    """What ``user`` may do: their role's grants, then their unit's overrides, then their own."""
    from hotline.core.storage.models.people import PermissionGrant

    try:
        granted = set(ROLE_GRANTS[Role(user.role)])
    except ValueError:
        return frozenset()
    rows = list(
        await session.scalars(
            select(PermissionGrant).where(
                or_(
                    PermissionGrant.user_id == user.id,
                    (PermissionGrant.user_id.is_(None))
                    & (PermissionGrant.department_id == user.department_id)
                    & (PermissionGrant.role.is_(None) | (PermissionGrant.role == user.role)),
                )
            )
        )
    )
    # unit-wide first, then the unit's role, then the user's own: the nearer applies last
    rows.sort(key=lambda g: (g.user_id is not None, g.role is not None, g.id))
    for grant in rows:
        if grant.permission not in {p.value for p in Permission}:
            continue
        if grant.allow:
            granted.add(Permission(grant.permission))
        else:
            granted.discard(Permission(grant.permission))
    return frozenset(granted)
