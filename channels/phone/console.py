"""The administrator's page for the phone menu: a structured editor (steps, keys, actions,
prompts in every language, problems shown beside the step they concern, and a preview of what
a caller hears, which can be listened to), with the TOML document beside it for experts.

A save is checked whole first (every problem named, nothing written), then written atomically
to ``<data dir>/phone-menu.toml``, which the line reads again at the next call. The audit trail
records who changed it."""

from __future__ import annotations

import tomllib
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from sqlalchemy import select

from hotline.admin.guards import ctx_of, requires, staff_actor
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.reference.labels import N_
from hotline.core.shell.web import render, request_language
from hotline.core.storage.models.axd import SkillGroup

from .menu import Menu, MenuError, Problem, menu_path, parse_menu, validate_menu
from .menu_form import (
    ACTION_WORDS,
    ACTIONS,
    KINDS,
    LANGUAGE_NAMES,
    FormRefused,
    as_toml,
    document_from_form,
    rows,
    walk,
)
from .prompts import PromptBook, SynthesisFailed

Req = Request[Any, Any, Any]
MAX_BYTES = 200_000
_REFUSED = "the form was not the editor's; reload the page"


async def _queues(request: Req) -> list[tuple[str, str]]:
    """The skill groups (queues) a caller may wait in: code and name in the reader's language."""
    zh = request_language(request) == "zh_CN"
    async with ctx_of(request).db.session() as session:
        groups = list(await session.scalars(select(SkillGroup).order_by(SkillGroup.code)))
    return [(g.code, (g.name_zh if zh else g.name_en) or g.name_en or g.code) for g in groups]


async def _unknown_queues(request: Req, menu: Menu) -> list[Problem]:
    known = {code for code, _ in await _queues(request)}
    return [
        Problem(name, N_("there is no queue '%(queue)s'"), {"queue": node.queue})
        for name, node in menu.nodes.items()
        if node.action == "queue" and node.queue and node.queue not in known
    ]


async def _page(
    request: Req,
    text: str | None = None,
    doc: dict[str, Any] | None = None,
    details: list[Problem] | None = None,
    **extra: Any,
) -> Response[str]:
    ctx = ctx_of(request)
    source = menu_path(ctx.settings.data_dir)
    saved_text = await anyio.Path(source).read_text(encoding="utf-8")
    menu = parse_menu(saved_text)  # the saved menu is always a valid one
    text = saved_text if text is None else text
    doc = doc or tomllib.loads(saved_text)
    language = request_language(request)
    heard = language if language in menu.languages else menu.languages[0]
    by_node: dict[str, list[Problem]] = {}
    for problem in details or []:
        by_node.setdefault(problem.node, []).append(problem)
    status = extra.pop("status", 200)
    return render(
        request,
        "phone/menu.html",
        text=text,
        own=source.parent == ctx.settings.data_dir,
        steps=rows(doc),
        doc=doc,
        languages=menu.languages,
        actions=ACTIONS,
        kinds=KINDS,
        by_node=by_node,
        action_words=ACTION_WORDS,
        lang_names=LANGUAGE_NAMES,
        preview=walk(menu, heard),
        queues=await _queues(request),
        preview_language=heard,
        status=status,
        **extra,
    )


async def _save(request: Req, text: str) -> None:
    ctx = ctx_of(request)
    target = anyio.Path(ctx.settings.data_dir / "phone-menu.toml")
    part = anyio.Path(str(target) + ".part")
    await part.write_text(text, encoding="utf-8")
    await part.replace(target)
    async with ctx.db.transaction() as session:
        audit(session, staff_actor(request), "phone_menu_changed", None, bytes=len(text))


@get("/console/settings/phone", guards=[requires(Permission.ADMINISTER)])
async def phone_menu(request: Req) -> Response[str]:
    return await _page(request, saved=request.query_params.get("saved"))


@post("/console/settings/phone", guards=[requires(Permission.ADMINISTER)])
async def save_phone_menu(request: Req) -> Response[str]:
    """The raw document, as experts write it."""
    form = await request.form()
    text = str(form.get("menu", "")).replace("\r\n", "\n")
    if len(text.encode()) > MAX_BYTES:
        return await _page(request, text, problems=["the menu is too long"], status=422)
    try:
        menu = parse_menu(text)
    except MenuError as exc:
        return await _page(request, text, problems=exc.problems, status=422)
    unknown = await _unknown_queues(request, menu)
    if unknown:
        return await _page(request, text, problems=[str(p) for p in unknown], status=422)
    await _save(request, text)
    return await _page(request, saved="1")


@post("/console/settings/phone/steps", guards=[requires(Permission.ADMINISTER)])
async def save_phone_steps(request: Req) -> Response[str]:
    """The structured editor's form: read into the document, checked whole, written as TOML."""
    ctx = ctx_of(request)
    form = {key: str(value) for key, value in (await request.form()).items()}
    current = parse_menu(await anyio.Path(menu_path(ctx.settings.data_dir)).read_text("utf-8"))
    try:
        doc = document_from_form(form, current.languages)
    except FormRefused:
        return await _page(request, problems=[_REFUSED], status=400)
    try:
        menu = validate_menu(doc)
    except MenuError as exc:
        general = [] if exc.details else exc.problems
        return await _page(
            request, doc=doc, details=exc.details, problems=general, status=422, steps_refused=1
        )
    unknown = await _unknown_queues(request, menu)
    if unknown:
        return await _page(request, doc=doc, details=unknown, status=422, steps_refused=1)
    await _save(request, as_toml(doc))
    return await _page(request, saved="1")


@get("/console/settings/phone/listen", guards=[requires(Permission.ADMINISTER)])
async def listen(request: Req) -> Response[bytes]:
    """A step's prompt as the caller hears it: the site's recording, else the synthesiser."""
    ctx = ctx_of(request)
    menu = parse_menu(await anyio.Path(menu_path(ctx.settings.data_dir)).read_text("utf-8"))
    name = request.query_params.get("step", "")
    language = request.query_params.get("lang", "")
    node = menu.nodes.get(name)
    if node is None or language not in menu.languages:
        raise NotFoundException()
    try:
        path = await PromptBook(ctx.settings.data_dir).node(name, language, node.prompt[language])
    except SynthesisFailed:
        return Response(b"", status_code=503, media_type="audio/wav")
    return Response(await anyio.Path(path).read_bytes(), media_type="audio/wav")


CONSOLE_ROUTES = [phone_menu, save_phone_menu, save_phone_steps, listen]
