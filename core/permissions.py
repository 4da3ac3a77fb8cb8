"""What each role may do, as the hotline is organised. Least privilege: a role gets only the
functions its work needs; the console checks every endpoint against this table.

Grants are per role here; the console issue's administration screens add per-unit overrides
(group -> role -> user) on top.
"""

from __future__ import annotations

from enum import StrEnum

from hotline.core.enums import Role


class Permission(StrEnum):
    CONSOLE = "console"  # sign in to the console at all
    QUEUE_WORK = "queue.work"  # take contacts from the AXD queue
    QUEUE_MANAGE = "queue.manage"  # move items, sign agents out (team leader)
    CASE_READ = "case.read"  # read cases of the hotline (personal data is audited)
    CASE_EDIT = "case.edit"  # classify, summarise, answer on the spot; correct a citizen's record
    CITIZEN_MERGE = "citizen.merge"  # merge two records of the same person
    DEPARTMENT_HANDLE = "department.handle"  # sign for, handle, reply to, return routed cases
    DEPARTMENT_APPROVE = "department.approve"  # a department head's approvals
    DIRECTOR_MAILBOX = "director.mailbox"  # read the sealed director's mailbox
    SUPERVISE = "supervise"  # urge, supervise, approve extensions, reports, audit search
    ADMINISTER = "administer"  # users, roles, routing rules, calendars, settings


ROLE_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(
        {Permission.CONSOLE, Permission.QUEUE_WORK, Permission.CASE_READ, Permission.CASE_EDIT}
    ),
    Role.TEAM_LEADER: frozenset(
        {
            Permission.CONSOLE,
            Permission.QUEUE_WORK,
            Permission.QUEUE_MANAGE,
            Permission.CASE_READ,
            Permission.CASE_EDIT,
            Permission.CITIZEN_MERGE,
        }
    ),
    Role.DEPARTMENT_OFFICER: frozenset({Permission.CONSOLE, Permission.DEPARTMENT_HANDLE}),
    Role.DEPARTMENT_HEAD: frozenset(
        {Permission.CONSOLE, Permission.DEPARTMENT_HANDLE, Permission.DEPARTMENT_APPROVE}
    ),
    Role.DIRECTOR_OFFICE: frozenset({Permission.CONSOLE, Permission.DIRECTOR_MAILBOX}),
    Role.SUPERVISOR: frozenset(
        {Permission.CONSOLE, Permission.CASE_READ, Permission.SUPERVISE, Permission.QUEUE_MANAGE}
    ),
    Role.ADMINISTRATOR: frozenset({Permission.CONSOLE, Permission.ADMINISTER}),
}


def allowed(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_GRANTS[Role(role)]
    except ValueError:
        return False
