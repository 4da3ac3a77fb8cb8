"""Migration 0010 takes the lookup code out of the acknowledgements stored before it."""

from __future__ import annotations

from hotline.core.cases.replies import LOOKUP_CODE_MASK
from hotline.core.storage.models.base import utcnow
from tests.core.test_migrations import empty_db  # noqa: F401 (a fixture)

OLD_ACKS = {
    "en": "The hotline received your message. Your tracking number is 2612 0600 0001 7 and your "
    "lookup code is 480213. Keep them to follow your case; we will answer through this channel.",
    "zh_CN": "热线已收到您的诉求，工单编号为 2612 0600 0001 7，查询码为 480213。请妥善保存，"
    "以便查询办理进度；我们将通过此渠道答复您。",
}


def test_upgrading_takes_the_lookup_code_out_of_stored_acknowledgements(
    empty_db: str,  # noqa: F811
) -> None:
    """Acknowledgements stored by earlier versions held the code; the migration masks it (and
    a waiting one gets the code when it is sent), and leaves every other message alone."""
    import sqlalchemy as sa

    from hotline.core.storage import migrate
    from tests.faultload import sync_url

    migrate.upgrade(empty_db, "0009")
    engine = sa.create_engine(sync_url(empty_db))
    cases = sa.table(
        "cases",
        *(sa.column(c) for c in ("id", "tracking_number", "kind", "status", "priority")),
        *(sa.column(c) for c in ("language", "first_channel", "subject", "description")),
        sa.column("sealed", sa.Boolean),
        sa.column("created_at", sa.DateTime),
        sa.column("updated_at", sa.DateTime),
    )
    interactions = sa.table(
        "interactions",
        *(sa.column(c) for c in ("id", "case_id", "direction", "channel", "text", "attempts")),
        sa.column("meta", sa.JSON),
        sa.column("created_at", sa.DateTime),
    )
    now = utcnow().replace(tzinfo=None)
    answer = "Your lookup code is 480213 if you ask again: the street was repaired."
    with engine.begin() as conn:
        conn.execute(
            cases.insert().values(
                id=1,
                tracking_number="2612060000017",
                kind="complaint",
                status="received",
                priority="normal",
                language="zh_CN",
                first_channel="email",
                subject="",
                description="",
                sealed=False,
                created_at=now,
                updated_at=now,
            )
        )
        for n, (text, purpose) in enumerate(
            [
                (OLD_ACKS["en"], "acknowledgement"),
                (OLD_ACKS["zh_CN"], "acknowledgement"),
                (answer, "answer"),
            ],
            start=1,
        ):
            conn.execute(
                interactions.insert().values(
                    id=n,
                    case_id=1,
                    direction="out",
                    channel="email",
                    text=text,
                    attempts=0,
                    meta={"purpose": purpose, "subject": ""},
                    created_at=now,
                )
            )
    engine.dispose()
    migrate.upgrade(empty_db)
    engine = sa.create_engine(sync_url(empty_db))
    with engine.connect() as conn:
        found = {
            row.id: (row.text, row.meta)
            for row in conn.execute(
                sa.select(interactions.c.id, interactions.c.text, interactions.c.meta)
            )
        }
    engine.dispose()
    for n in (1, 2):
        text, meta = found[n]
        assert "480213" not in text and LOOKUP_CODE_MASK in text and meta["lookup_code"] is True
    assert found[1][0] == OLD_ACKS["en"].replace("480213", LOOKUP_CODE_MASK)
    assert found[2][0] == OLD_ACKS["zh_CN"].replace("480213", LOOKUP_CODE_MASK)
    assert found[3] == (answer, {"purpose": "answer", "subject": ""})  # not an acknowledgement
