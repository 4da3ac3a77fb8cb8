"""The administrator's page for speech models: which languages transcribe, which do not."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from hotline.admin.guards import ctx_of, requires
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render

from . import models

Req = Request[Any, Any, Any]


@get("/console/settings/speech", guards=[requires(Permission.ADMINISTER)])
async def speech_models(request: Req) -> Response[str]:
    root = ctx_of(request).settings.speech_models
    found = models.installed(root)
    rows = [
        {"language": language, "folder": folder.name, "rate": models.sample_rate(folder)}
        for language, folder in found.items()
    ]
    return render(
        request, "speech/models.html", rows=rows, missing=models.missing(root), root=str(root)
    )


CONSOLE_ROUTES = [speech_models]
