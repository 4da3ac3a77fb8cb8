"""The webhook Telegram calls with each update (webhook mode: ``HOTLINE_TELEGRAM_WEBHOOK_SECRET``
set and given to setWebhook as ``secret_token``).

Every call must carry the secret in ``X-Telegram-Bot-Api-Secret-Token`` (compared in constant
time); otherwise 403 and nothing is read. A body that is not an update answers 400 and nothing
is stored. Anything else answers 200 once handled or held, so Telegram does not send it again;
only when even holding it failed (the database down) the 500 makes Telegram retry later, and
the retry is recognised by its ``chat_id:message_id``.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from litestar import Request, Response, post

from hotline.core.shell.context import AppContext

from .api import SECRET_HEADER, WEBHOOK_PATH, open_bot
from .handler import handle
from .inbound import UpdateRefused

log = logging.getLogger("hotline.channels.telegram")
Req = Request[Any, Any, Any]


@post(WEBHOOK_PATH, include_in_schema=False, status_code=200)
async def telegram_webhook(request: Req) -> Response[str]:
    ctx: AppContext = request.app.state.ctx
    secret = ctx.settings.telegram_webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("telegram webhook refused: wrong or missing secret")
        return Response("", status_code=403)
    raw = await request.body()
    async with open_bot(ctx.settings) as bot:
        try:
            outcome = await handle(ctx, bot, raw, source="webhook")
        except UpdateRefused as refused:
            log.warning("telegram webhook refused", extra={"why": str(refused)})
            return Response("", status_code=400)
    log.debug("telegram update", extra={"outcome": outcome})
    return Response("", status_code=200)
