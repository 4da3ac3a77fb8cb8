"""Looking a case up by tracking number and a second factor; guessing does not work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hotline.core.cases.lookup import (
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_NUMBER,
    LookupRefused,
    lookup_code,
    verified_timeline,
)
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused
from hotline.core.people.delays import Delay
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.people import FailedAttempt
from tests.conftest import count_rows, seed_city
from tests.factories import submission

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


async def test_the_lookup_code_or_the_phone_digits_with_a_second_fact_open_the_timeline(
    ctx: AppContext,
) -> None:
    await seed_city(ctx)
    result = await receive(ctx, submission())
    assert result.lookup_code == lookup_code(ctx.secret_key, result.tracking_number)
    case, events = await verified_timeline(
        ctx.db, ctx.secret_key, result.tracking_number, result.lookup_code, "1.2.3.4"
    )
    assert case.id == result.case_id and [e.action for e in events] == ["received"]
    # last four digits of 138 0013 8000, with the name as given or the whole number
    for second in ("张三", " 张 三 ", "13800138000", "+86 138 0013 8000"):
        case, _ = await verified_timeline(
            ctx.db, ctx.secret_key, result.tracking_number, "8000", "1.2.3.4", second=second
        )
        assert case.id == result.case_id
    # the four digits alone (10,000 values) open nothing, and are not counted as a guess
    with pytest.raises(LookupRefused) as refused:
        await verified_timeline(ctx.db, ctx.secret_key, result.tracking_number, "8000", "1.2.3.4")
    assert refused.value.code == "name_needed"
    for wrong_second in ("李四", "13900139000"):
        with pytest.raises(LookupRefused) as refused:
            await verified_timeline(
                ctx.db,
                ctx.secret_key,
                result.tracking_number,
                "8000",
                "1.2.3.4",
                second=wrong_second,
            )
        assert refused.value.code == "no_match"


@pytest.mark.parametrize(
    "number_of, code_of",
    [
        (lambda n: n.translate(FULL_WIDTH), lambda c: c.translate(FULL_WIDTH)),
        (lambda n: f"{n[:4]}－{n[4:8]}　{n[8:]}", lambda c: f" {c} "),
        (lambda n: n, lambda c: c.translate(FULL_WIDTH)),
    ],
)
async def test_full_width_numbers_and_codes_are_read_as_typed(
    ctx: AppContext, number_of: Any, code_of: Any
) -> None:
    await seed_city(ctx)
    result = await receive(ctx, submission())
    assert result.lookup_code is not None
    case, _ = await verified_timeline(
        ctx.db,
        ctx.secret_key,
        number_of(result.tracking_number),
        code_of(result.lookup_code),
        "1.2.3.4",
    )
    assert case.id == result.case_id


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x85", "\ud800", "\u2028x\x00"])
async def test_what_is_not_text_is_no_match_and_stores_nothing(ctx: AppContext, bad: str) -> None:
    await seed_city(ctx)
    result = await receive(ctx, submission())
    assert result.lookup_code is not None
    before = await count_rows(ctx)
    for number, factor, second in (
        (result.tracking_number + bad, result.lookup_code, None),
        (result.tracking_number, result.lookup_code + bad, None),
        (result.tracking_number, "8000", "张三" + bad),
    ):
        with pytest.raises(LookupRefused) as refused:
            await verified_timeline(
                ctx.db, ctx.secret_key, number, factor, "1.2.3.4", second=second
            )
        assert refused.value.code == "no_match"
    assert await count_rows(ctx) == before


async def _age_failures(ctx: AppContext, seconds: float) -> None:
    """Let time pass for the counted failures (they are rows with a time)."""
    async with ctx.db.transaction() as s:
        for row in await s.scalars(select(FailedAttempt)):
            row.at = row.at - timedelta(seconds=seconds)


async def test_wrong_guesses_slow_a_case_down_but_never_lock_the_citizen_out(
    ctx: AppContext,
) -> None:
    await seed_city(ctx)
    result = await receive(ctx, submission())
    number, code = result.tracking_number, result.lookup_code
    assert code is not None
    unknown = number[:-2] + "00"
    refusals = set()
    for guess in ("000000", "999999"):
        with pytest.raises(LookupRefused) as refused:
            await verified_timeline(ctx.db, ctx.secret_key, number, guess, "5.6.7.8")
        refusals.add(refused.value.code)
    with pytest.raises(LookupRefused) as refused:
        await verified_timeline(ctx.db, ctx.secret_key, unknown, "000000", "5.6.7.8")
    refusals.add(refused.value.code)
    assert refusals == {"no_match"}  # an unknown number looks like a wrong code
    # strangers from many addresses use up the free tries on this case...
    for n in range(MAX_FAILURES_PER_NUMBER - 2):
        with pytest.raises(LookupRefused):
            await verified_timeline(ctx.db, ctx.secret_key, number, f"{n:06d}", f"9.9.9.{n}")
    # ...so the next try waits a little (the right code too: a guess cannot be told apart)
    with pytest.raises(LookupRefused) as refused:
        await verified_timeline(ctx.db, ctx.secret_key, number, code, "10.0.0.1")
    assert refused.value.code == "wait" and 0 < refused.value.wait_seconds <= 2
    # hammering during the wait is not counted: the wait does not grow
    for _ in range(10):
        with pytest.raises(LookupRefused):
            await verified_timeline(ctx.db, ctx.secret_key, number, "123456", "9.9.9.9")
    await _age_failures(ctx, 2)
    case, _ = await verified_timeline(ctx.db, ctx.secret_key, number, code, "10.0.0.1")
    assert case.id == result.case_id
    # each further wrong try doubles the wait
    waits = []
    for n in range(3):
        await _age_failures(ctx, 3600)
        with pytest.raises(LookupRefused):
            await verified_timeline(ctx.db, ctx.secret_key, number, f"{n:06d}", "9.9.8.8")
        with pytest.raises(LookupRefused) as refused:
            await verified_timeline(ctx.db, ctx.secret_key, number, code, "10.0.0.1")
        waits.append(refused.value.wait_seconds)
    assert waits == [4, 8, 16]


def test_the_delay_grows_and_has_a_ceiling() -> None:
    delay = Delay(free=5, base_seconds=2, cap_seconds=900)
    assert [delay.after(n) for n in (0, 4, 5, 6, 7, 14, 40)] == [0, 0, 2, 4, 8, 900, 900]


async def test_guessing_across_numbers_is_stopped_per_address(ctx: AppContext) -> None:
    await seed_city(ctx)
    results = [await receive(ctx, submission()) for _ in range(6)]
    tries = 0
    with pytest.raises(LookupRefused) as refused:
        while tries < 100:
            for r in results:
                tries += 1
                try:
                    await verified_timeline(
                        ctx.db, ctx.secret_key, r.tracking_number, f"{tries:06d}", "6.6.6.6"
                    )
                except LookupRefused as exc:
                    if exc.code == "too_many_attempts":
                        raise
    assert refused.value.code == "too_many_attempts" and tries == MAX_FAILURES_PER_ADDRESS + 1
    # another address still gets in with the right code
    first = results[0]
    assert first.lookup_code is not None
    await _age_failures(ctx, 3600)
    case, _ = await verified_timeline(
        ctx.db, ctx.secret_key, first.tracking_number, first.lookup_code, "7.7.7.7"
    )
    assert case.id == first.case_id


async def test_rating_after_an_answer_and_asking_to_reopen(ctx: AppContext) -> None:
    await seed_city(ctx)
    result = await receive(ctx, submission())
    early = submission(
        tracking_number=result.tracking_number, text="", rating={"satisfaction": "satisfied"}
    )
    with pytest.raises(IntakeRefused) as refused:
        await receive(ctx, early)
    assert [p.code for p in refused.value.problems] == ["not_answered"]
    async with ctx.db.transaction() as s:
        case = await s.get(Case, result.case_id)
        assert case is not None
        case.status = CaseStatus.CLOSED  # as the workflow will
    rating = submission(
        tracking_number=result.tracking_number,
        text="还是没修好",
        rating={"satisfaction": "not_satisfied", "comment": "还是没修好"},
    )
    rated = await receive(ctx, rating)
    assert rated.case_id == result.case_id and not rated.created
    async with ctx.db.session() as s:
        case = await s.get(Case, result.case_id)
        actions = list(
            await s.scalars(
                select(CaseEvent.action)
                .where(CaseEvent.case_id == result.case_id)
                .order_by(CaseEvent.id)
            )
        )
    assert case is not None and case.satisfaction == "not_satisfied"
    assert actions[-2:] == ["rated", "reopen_requested"]
