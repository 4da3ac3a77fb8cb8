"""The kernel's side of account safety on SQLite and PostgreSQL: sign-in delays and the address
limit, single-use TOTP steps, approvals by a second person of the director's office, and
letters kept out of the agents' queue."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from hotline.core.intake.receive import receive
from hotline.core.people.passwords import hash_password
from hotline.core.people.rights import EDIT, RESET_PASSWORD, Change, RightsRefused
from hotline.core.people.separation import decide, request_change
from hotline.core.people.signin import FREE_FAILURES, SignInRefused, second_factor, sign_in
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind, Role
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.people import AccountRequest, FailedAttempt, User
from hotline.core.storage.models.workflow import Notice
from tests.factories import submission

PASSWORD = "quiet river lamp 47"


async def staff(ctx: AppContext) -> dict[str, int]:
    async with ctx.db.transaction() as s:
        for name, role in (
            ("admin", Role.ADMINISTRATOR),
            ("office1", Role.DIRECTOR_OFFICE),
            ("office2", Role.DIRECTOR_OFFICE),
            ("agent", Role.AGENT),
        ):
            s.add(
                User(
                    username=name,
                    display_name=name,
                    role=role,
                    password_hash=hash_password(PASSWORD),
                )
            )
    async with ctx.db.session() as s:
        return {u.username: u.id for u in await s.scalars(select(User))}


def actor(ids: dict[str, int], name: str) -> Actor:
    return Actor(ActorKind.STAFF, id=ids[name], label=name)


async def age(ctx: AppContext, seconds: float) -> None:
    async with ctx.db.transaction() as s:
        for row in await s.scalars(select(FailedAttempt)):
            row.at -= timedelta(seconds=seconds)


async def test_guesses_slow_the_account_and_the_owner_gets_in_after(ctx: AppContext) -> None:
    await staff(ctx)
    for n in range(FREE_FAILURES):
        with pytest.raises(SignInRefused) as wrong:
            await sign_in(ctx, "admin", f"guess{n}", "192.0.2.1")
        assert wrong.value.code == "wrong"
    with pytest.raises(SignInRefused) as slowed:
        await sign_in(ctx, "admin", PASSWORD, "198.51.100.7")  # the owner, elsewhere
    assert slowed.value.code == "wait" and slowed.value.wait >= 1
    await age(ctx, 2)
    assert (await sign_in(ctx, "admin", PASSWORD, "198.51.100.7")).username == "admin"


async def test_an_address_is_refused_after_twenty_failures(ctx: AppContext) -> None:
    await staff(ctx)
    for n in range(20):
        with pytest.raises(SignInRefused):
            await sign_in(ctx, f"name{n}", "guess", "192.0.2.9")
    with pytest.raises(SignInRefused) as locked:
        await sign_in(ctx, "agent", PASSWORD, "192.0.2.9")
    assert locked.value.code == "locked"
    assert (await sign_in(ctx, "agent", PASSWORD, "192.0.2.10")).username == "agent"


async def test_a_totp_step_is_used_once(ctx: AppContext) -> None:
    ids = await staff(ctx)
    secret = pyotp.random_base32()
    async with ctx.db.transaction() as s:
        (await s.get(User, ids["office1"])).totp_secret = secret
    code = pyotp.TOTP(secret).now()
    assert await second_factor(ctx, ids["office1"], code) is None
    assert await second_factor(ctx, ids["office1"], code) == "reused"
    assert await second_factor(ctx, ids["office1"], "000000") in ("wrong", "reused")


async def test_a_move_into_the_office_waits_for_a_second_person(ctx: AppContext) -> None:
    ids = await staff(ctx)
    change = Change(EDIT, ids["agent"], {"role": Role.DIRECTOR_OFFICE.value})
    asked = await request_change(ctx, actor(ids, "admin"), change)
    assert asked.state == "pending"
    async with ctx.db.session() as s:
        assert (await s.get(User, ids["agent"])).role == Role.AGENT
    with pytest.raises(RightsRefused) as same:
        await decide(ctx, actor(ids, "admin"), asked.request_id, True)  # not of the office
    assert same.value.code in ("invalid", "same_person")
    done = await decide(ctx, actor(ids, "office1"), asked.request_id, True)
    assert done.state == "approved"
    async with ctx.db.session() as s:
        assert (await s.get(User, ids["agent"])).role == Role.DIRECTOR_OFFICE
        state = await s.scalar(select(AccountRequest.state))
        told = list(await s.scalars(select(Notice.kind).where(Notice.role == "director_office")))
    assert state == "approved" and told == ["rights_request", "rights_approved"]


async def test_an_office_reset_is_not_approved_by_the_one_concerned(ctx: AppContext) -> None:
    ids = await staff(ctx)
    asked = await request_change(ctx, actor(ids, "admin"), Change(RESET_PASSWORD, ids["office1"]))
    with pytest.raises(RightsRefused) as same:
        await decide(ctx, actor(ids, "office1"), asked.request_id, True)
    assert same.value.code == "same_person"
    done = await decide(ctx, actor(ids, "office2"), asked.request_id, True)
    assert done.password and done.username == "office1"


async def test_no_one_changes_their_own_role(ctx: AppContext) -> None:
    ids = await staff(ctx)
    change = Change(EDIT, ids["admin"], {"role": Role.DIRECTOR_OFFICE.value})
    with pytest.raises(RightsRefused) as refused:
        await request_change(ctx, actor(ids, "admin"), change)
    assert refused.value.code == "self"


async def test_a_letter_makes_no_queue_item(ctx: AppContext, city: dict[str, int]) -> None:
    """Neither the letter nor what its writer sends after it; the office is told of both."""
    letter = await receive(ctx, submission(kind="director_mailbox", category=None))
    await receive(
        ctx,
        submission(kind="director_mailbox", category=None, tracking_number=letter.tracking_number),
    )
    ordinary = await receive(ctx, submission())
    async with ctx.db.session() as s:
        counts = dict(
            (
                await s.execute(select(QueueItem.case_id, func.count()).group_by(QueueItem.case_id))
            ).all()
        )
        told = list(await s.scalars(select(Notice.kind).order_by(Notice.id)))
    assert counts == {ordinary.case_id: 1}
    assert told == ["letter_received", "letter_added"]


async def test_a_new_account_gets_only_its_own_units_overrides(
    ctx: AppContext, city: dict[str, int]
) -> None:
    """An ordinary account added to a department is made at once, even when another
    department's people may read the mailbox; one added to that department waits."""
    from hotline.core.people.rights import ADD
    from hotline.core.storage.models.people import PermissionGrant

    ids = await staff(ctx)
    async with ctx.db.transaction() as s:
        s.add(PermissionGrant(department_id=city["env"], permission="director.mailbox"))
    elsewhere = Change(
        ADD,
        None,
        {"username": "zhao", "role": "department_officer", "department_id": city["roads"]},
    )
    assert (await request_change(ctx, actor(ids, "admin"), elsewhere)).state == "done"
    there = Change(
        ADD, None, {"username": "qian", "role": "department_officer", "department_id": city["env"]}
    )
    assert (await request_change(ctx, actor(ids, "admin"), there)).state == "pending"
