"""The administrator's page for speech: which engine hears which language, which models are
installed, which languages go without transcripts. Choosing the engine per language is audited."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from hotline.admin.guards import ctx_of, requires, staff_actor
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render

from . import engines, models, whisper_model

Req = Request[Any, Any, Any]


@get("/console/settings/speech", guards=[requires(Permission.ADMINISTER)])
async def speech_models(request: Req) -> Response[str]:
    from . import whisper_status

    settings = ctx_of(request).settings
    root = settings.speech_models
    found = models.installed(root)
    rows = [
        {"language": language, "folder": folder.name, "rate": models.sample_rate(folder)}
        for language, folder in found.items()
    ]
    choices = engines.chosen(settings)
    languages = [
        {
            "code": language,
            "chosen": choices.get(language, ""),
            "engine": engines.engine_for(settings, language),
            "vosk": models.find(root, language) is not None,
        }
        for language in engines.LANGUAGES
    ]
    missing = [row["code"] for row in languages if row["engine"] is None]
    return render(
        request,
        "speech/models.html",
        rows=rows,
        missing=missing,
        root=str(root),
        languages=languages,
        whisper=engines.whisper_folder(settings),
        whisper_problem=whisper_status(settings),
        whisper_name=whisper_model.NAME,
        saved=request.query_params.get("saved") == "1",
    )


@post("/console/settings/speech", guards=[requires(Permission.ADMINISTER)])
async def speech_choose(request: Req) -> Response[Any]:
    ctx = ctx_of(request)
    form = await request.form()
    choices = {}
    for language in engines.LANGUAGES:
        value = str(form.get(f"engine_{language}", ""))
        if value in engines.ENGINES:
            choices[language] = value
    engines.choose(ctx.settings, choices)
    async with ctx.db.transaction() as session:
        audit(session, staff_actor(request), "speech.engines", None, engines=choices)
    return Redirect("/console/settings/speech?saved=1", status_code=303)


CONSOLE_ROUTES = [speech_models, speech_choose]
