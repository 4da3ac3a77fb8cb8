"""The services citizens can choose: active, public service categories, by code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from hotline.core.storage.models.reference import ServiceCategory

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext


async def public_services(ctx: AppContext) -> list[ServiceCategory]:
    """What the portal lists, the JSON API serves and Open311 publishes."""
    async with ctx.db.session() as session:
        rows = await session.scalars(
            select(ServiceCategory)
            .where(ServiceCategory.active.is_(True), ServiceCategory.public.is_(True))
            .order_by(ServiceCategory.code)
        )
        return list(rows)
