"""``hotline user ...``: staff accounts at the command line. Whoever runs the server's command
line makes these changes at once (setting up the director's office, an emergency); each is
audited as ``cli:<operator>`` and, when it touches the office's rights, told to the office.
Generated passwords are printed once, never logged."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from sqlalchemy import func, select

from hotline.core.foundation.settings import Settings
from hotline.core.people.permissions import Permission
from hotline.core.people.rights import (
    ADD,
    EDIT,
    GRANT,
    GRANT_DELETE,
    RESET_PASSWORD,
    RESET_TOTP,
    Change,
    RightsRefused,
)
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import PermissionGrant, User
from hotline.core.storage.models.reference import Department

ACTIONS = (
    "add",
    "role",
    "activate",
    "deactivate",
    "enable",
    "disable",
    "grant",
    "deny",
    "revoke",
    "reset-password",
    "reset-totp",
    "list",
)
USAGE = """actions:
  add NAME ROLE [--department CODE]   a new account; its password is printed once
  role NAME ROLE [--department CODE]  another role (and department)
  enable NAME | disable NAME          switch an account on or off (also: activate, deactivate)
  grant NAME PERMISSION               an override allowing PERMISSION to NAME
  deny NAME PERMISSION                an override refusing PERMISSION to NAME
  revoke NAME PERMISSION              remove NAME's overrides of PERMISSION
  reset-password NAME                 a new password, printed once; NAME's sessions end
  reset-totp NAME                     remove NAME's second factor; NAME's sessions end
  list                                every account: role, department, on or off, second factor

department_officer and department_head need --department CODE."""

DEPARTMENT_ROLES = (Role.DEPARTMENT_OFFICER.value, Role.DEPARTMENT_HEAD.value)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser(
        "user",
        help="staff accounts: add, role, grant, reset-password... (see: hotline user -h)",
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    user.add_argument("action", choices=ACTIONS, help="what to do (listed below)")
    user.add_argument("username", nargs="?", default="", help="the account's user name")
    user.add_argument("value", nargs="?", default="", help="a role or a permission")
    user.add_argument(
        "--display-name", default="", help="the name shown to colleagues (add; default: NAME)"
    )
    user.add_argument(
        "--department",
        default="",
        help="the department's code, for department_officer and department_head",
    )


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "unknown"


async def _change(ctx: AppContext, args: argparse.Namespace) -> Change:
    """The change the arguments ask for; LookupError/ValueError say what is wrong."""
    async with ctx.db.session() as session:
        department_id = None
        if args.department:
            department_id = await session.scalar(
                select(Department.id).where(Department.code == args.department)
            )
            if department_id is None:
                raise LookupError(f"no department {args.department}")
        elif args.action in ("add", "role") and args.value in DEPARTMENT_ROLES:
            raise LookupError(f"{args.value} needs --department CODE")
        user = await session.scalar(
            select(User).where(func.lower(User.username) == args.username.strip().lower())
        )
        if args.action == "add":
            return Change(
                ADD,
                None,
                {
                    "username": args.username,
                    "role": Role(args.value).value,
                    "display_name": args.display_name or args.username,
                    "department_id": department_id,
                    # as before: the operator who ran it hands it on (the console's own accounts
                    # are changed at the first sign-in)
                    "must_change": False,
                },
            )
        if user is None:
            raise LookupError(f"no user {args.username}")
        if args.action == "role":
            detail = {"role": Role(args.value).value, "department_id": department_id}
            return Change(EDIT, user.id, detail)
        if args.action in ("activate", "deactivate", "enable", "disable"):
            return Change(EDIT, user.id, {"active": args.action in ("activate", "enable")})
        if args.action in ("grant", "deny"):
            permission = Permission(args.value).value
            return Change(
                GRANT, user.id, {"permission": permission, "allow": args.action == "grant"}
            )
        if args.action == "revoke":
            grant_id = await session.scalar(
                select(PermissionGrant.id).where(
                    PermissionGrant.user_id == user.id, PermissionGrant.permission == args.value
                )
            )
            if grant_id is None:
                raise LookupError(f"{args.username} has no override of {args.value}")
            return Change(GRANT_DELETE, None, {"grant_id": grant_id})
        return Change(RESET_PASSWORD if args.action == "reset-password" else RESET_TOTP, user.id)


async def _list(ctx: AppContext) -> None:
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(User, Department.code)
            .outerjoin(Department, Department.id == User.department_id)
            .order_by(User.username)
        )
        table = [
            (
                user.username,
                user.role,
                code or "-",
                "on" if user.active else "off",
                "2fa" if user.totp_secret else "-",
            )
            for user, code in rows
        ]
    heading = ("user", "role", "department", "state", "second factor")
    widths = [max(len(row[i]) for row in [heading, *table]) for i in range(len(heading))]
    for row in [heading, *table]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


async def _department_codes(ctx: AppContext) -> str:
    async with ctx.db.session() as session:
        codes = list(await session.scalars(select(Department.code).order_by(Department.code)))
    return ", ".join(codes) if codes else "(none yet: hotline demo-data, or the console)"


async def _codes(settings: Settings) -> str:
    from hotline.core.shell.context import open_context

    async with open_context(settings) as ctx:
        return await _department_codes(ctx)


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.core.people.separation import change_at_command_line
    from hotline.core.shell.context import open_context

    async def run() -> int:
        async with open_context(settings) as ctx:
            if args.action == "list":
                await _list(ctx)
                return 0
            change = await _change(ctx, args)
            outcome = await change_at_command_line(ctx, change, _operator())
        if outcome.password:
            print(f"user {outcome.username}: password (shown once): {outcome.password}")
        else:
            print(f"done: {args.action} {args.username} {args.value}".rstrip())
        return 0

    if args.action != "list" and not args.username:
        print("give the user name", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        permissions = ", ".join(p.value for p in Permission)
        print(
            f"unknown role or permission {args.value!r}; roles: {roles}; permissions: {permissions}",
            file=sys.stderr,
        )
        return 2
    except LookupError as missing:
        print(str(missing).strip("'\""), file=sys.stderr)
        if "department" in str(missing):
            print(f"departments: {asyncio.run(_codes(settings))}", file=sys.stderr)
        return 2
    except RightsRefused as refused:
        problem = {
            "taken": f"user {args.username} exists already",
            "last_admin": "the last active administrator stays one",
        }
        print(problem.get(refused.code, refused.code), file=sys.stderr)
        return 1
