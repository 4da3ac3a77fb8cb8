"""Looking a case up by tracking number and a second factor; guessing does not work."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.core.context import AppContext
from hotline.core.enums import CaseStatus
from hotline.core.intake import receive
from hotline.core.lookup import (
    MAX_FAILURES_PER_NUMBER,
    LookupRefused,
    lookup_code,
    verified_timeline,
)
from hotline.core.models import Case, CaseEvent
from hotline.core.submission import IntakeRefused
from tests.conftest import seed_city
from tests.factories import submission


async def test_the_lookup_code_or_the_phone_digits_open_the_timeline(ctx: AppContext) -> None:
    await seed_city(ctx)
    result = await receive(ctx, submission())
    assert result.lookup_code == lookup_code(ctx.secret_key, result.tracking_number)
    case, events = await verified_timeline(
        ctx.db, ctx.secret_key, result.tracking_number, result.lookup_code, "1.2.3.4"
    )
    assert case.id == result.case_id and [e.action for e in events] == ["received"]
    case, _ = await verified_timeline(
        ctx.db, ctx.secret_key, result.tracking_number, "8000", "1.2.3.4"
    )
    assert case.id == result.case_id  # last four digits of 138 0013 8000


async def test_wrong_factors_are_refused_alike_and_then_locked(ctx: AppContext) -> None:
    await seed_city(ctx)
    result = await receive(ctx, submission())
    unknown = result.tracking_number[:-2] + "00"
    refusals = set()
    for guess in ("000000", "1234", "999999"):
        with pytest.raises(LookupRefused) as refused:
            await verified_timeline(
                ctx.db, ctx.secret_key, result.tracking_number, guess, "5.6.7.8"
            )
        refusals.add(refused.value.code)
    with pytest.raises(LookupRefused) as refused:
        await verified_timeline(ctx.db, ctx.secret_key, unknown, "000000", "5.6.7.8")
    refusals.add(refused.value.code)
    assert refusals == {"no_match"}  # an unknown number looks like a wrong code
    for n in range(MAX_FAILURES_PER_NUMBER - 3):
        with pytest.raises(LookupRefused):
            await verified_timeline(
                ctx.db, ctx.secret_key, result.tracking_number, f"{n:06d}", f"9.9.9.{n}"
            )
    # five wrong tries on this number: now even the right code waits, from any address
    with pytest.raises(LookupRefused) as refused:
        await verified_timeline(
            ctx.db, ctx.secret_key, result.tracking_number, result.lookup_code, "10.0.0.1"
        )
    assert refused.value.code == "too_many_attempts"


async def test_guessing_across_numbers_is_stopped_per_address(ctx: AppContext) -> None:
    await seed_city(ctx)
    results = [await receive(ctx, submission()) for _ in range(3)]
    tries = 0
    with pytest.raises(LookupRefused) as refused:
        while True:
            for r in results:
                tries += 1
                try:
                    await verified_timeline(
                        ctx.db, ctx.secret_key, r.tracking_number, f"{tries:06d}", "6.6.6.6"
                    )
                except LookupRefused as exc:
                    if exc.code == "too_many_attempts":
                        raise
    assert refused.value.code == "too_many_attempts" and tries <= 21


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
