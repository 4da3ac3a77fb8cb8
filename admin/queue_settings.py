"""Administrators set up the queues (skill groups: strategy, offer time, wrap-up time, when skill
tiers widen, the phone prefixes of a regional group) and the away reasons agents choose from."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import select

from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.models.axd import AwayReason, SkillGroup
from hotline.plugins.strategies import STRATEGIES

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
CODE = r"^[a-z0-9_-]{1,32}$"


class QueueForm(BaseModel):
    code: str = Field(pattern=CODE)
    name_zh: str = Field("", max_length=100)
    name_en: str = Field("", max_length=100)
    strategy: str = ""
    offer_seconds: int = Field(20, ge=5, le=600)
    wrap_up_seconds: int = Field(30, ge=0, le=3600)
    widen_after_seconds: int = Field(60, ge=1, le=3600)
    phone_prefixes: list[str] = []

    @field_validator("strategy")
    @classmethod
    def known(cls, value: str) -> str:
        if value and value not in STRATEGIES:
            raise ValueError("unknown strategy")
        return value

    @field_validator("phone_prefixes", mode="before")
    @classmethod
    def prefixes(cls, value: Any) -> list[str]:
        found = [p.strip().replace(" ", "") for p in str(value or "").split(",") if p.strip()]
        if any(not p.lstrip("+").isdigit() or len(p) > 16 for p in found):
            raise ValueError("prefixes are digits, optionally after +, separated by commas")
        return found


class AwayForm(BaseModel):
    code: str = Field(pattern=CODE)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    active: bool = False


async def _page(
    request: Req, *, errors: list[str] | None = None, status: int = 200
) -> Response[str]:
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        groups = list(await session.scalars(select(SkillGroup).order_by(SkillGroup.code)))
        reasons = list(await session.scalars(select(AwayReason).order_by(AwayReason.code)))
    return render(
        request,
        "admin/queue_settings.html",
        groups=groups,
        reasons=reasons,
        strategies=list(STRATEGIES),
        errors=errors or [],
        status=status,
    )


def _problems(error: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]


@get("/console/settings/queues", guards=[requires(Permission.ADMINISTER)])
async def queue_settings(request: Req) -> Response[str]:
    return await _page(request)


async def _save(
    request: Req, form: dict[str, Any], schema: type[BaseModel], model: Any
) -> Response[Any]:
    """Validate ``form`` with ``schema`` and write it over the ``model`` row of its code (or a
    new one); a mistake shows the page again with every problem."""
    try:
        data = schema.model_validate(form)
    except ValidationError as error:
        return await _page(request, errors=_problems(error), status=422)
    values = data.model_dump()
    async with ctx_of(request).db.transaction() as session:
        row = await session.get(model, values["code"]) or model(code=values["code"])
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
    return Redirect("/console/settings/queues", status_code=303)


@post("/console/settings/queues", guards=[requires(Permission.ADMINISTER)])
async def save_queue(request: Req) -> Response[Any]:
    return await _save(request, dict(await request.form()), QueueForm, SkillGroup)


@post("/console/settings/away-reasons", guards=[requires(Permission.ADMINISTER)])
async def save_away_reason(request: Req) -> Response[Any]:
    form: dict[str, Any] = dict(await request.form())
    form["active"] = form.get("active") == "yes"
    return await _save(request, form, AwayForm, AwayReason)
