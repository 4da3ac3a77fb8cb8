"""Migration 0027 names the leg of the call detail records written before it: an agent's call
to a citizen (``dial-…``) is outbound, a transfer's new call (menu path ``transferred``) is a
transferred leg, and every other record is a call that arrived."""

from __future__ import annotations

from hotline.core.storage.models.base import utcnow
from tests.core.test_migrations import empty_db  # noqa: F401 (a fixture)


def test_upgrading_names_the_leg_of_earlier_records(empty_db: str) -> None:  # noqa: F811
    import sqlalchemy as sa

    from hotline.core.storage import migrate
    from tests.faultload import sync_url

    migrate.upgrade(empty_db, "0026")
    engine = sa.create_engine(sync_url(empty_db))
    records = sa.table(
        "call_records",
        *(sa.column(c) for c in ("id", "call_id", "caller", "called", "language", "hung_up_by")),
        sa.column("menu_path", sa.JSON),
        sa.column("arrived_at", sa.DateTime),
        sa.column("ended_at", sa.DateTime),
    )
    now = utcnow().replace(tzinfo=None)
    paths = {
        "a1": ["language", "main", "agent"],
        "dial-7-1765000000.000": ["outbound"],
        "t1": ["transferred"],
        "t2": ["transferred", "main"],  # a transferred caller who went on in the menu
        "a2": ["main", "transferred"],  # not a transfer's leg: a step of that name
    }
    with engine.begin() as conn:
        for n, (call_id, path) in enumerate(paths.items(), 1):
            conn.execute(
                records.insert().values(
                    id=n,
                    call_id=call_id,
                    caller="",
                    called="12345",
                    language="zh_CN",
                    hung_up_by="caller",
                    menu_path=path,
                    arrived_at=now,
                    ended_at=now,
                )
            )
    engine.dispose()
    migrate.upgrade(empty_db)
    engine = sa.create_engine(sync_url(empty_db))
    with engine.connect() as conn:
        legs = dict(conn.execute(sa.text("SELECT call_id, leg FROM call_records")).all())
    engine.dispose()
    assert legs == {
        "a1": "",
        "dial-7-1765000000.000": "outbound",
        "t1": "transferred",
        "t2": "transferred",
        "a2": "",
    }
