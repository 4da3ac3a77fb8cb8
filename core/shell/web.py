"""Server-rendered pages: Jinja with autoescape and gettext, language choice, htmx fragments."""

from __future__ import annotations

import ipaddress
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.utils.scope.state import ScopeState

from hotline.core.cases import tracking
from hotline.core.foundation.settings import SUPPORTED_LANGUAGES
from hotline.core.reference import labels
from hotline.core.shell.context import AppContext
from hotline.core.shell.i18n import choose_language

LANG_COOKIE = "hotline_lang"


def template_packages(ctx: AppContext) -> list[str]:
    names: list[str] = []
    for group in ctx.pm.hook.register_templates():
        names.extend(group or [])
    return names


def make_environment(ctx: AppContext) -> Environment:
    prefixes = {
        name.rsplit(".", 1)[-1]: PackageLoader(name, "templates") for name in template_packages(ctx)
    }
    env = Environment(
        loader=ChoiceLoader(
            [PrefixLoader(prefixes), PackageLoader("hotline.core.shell", "templates")]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    tz = ctx.tz
    env.filters["tracking"] = tracking.display
    env.filters["localtime"] = lambda value: value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return env


def request_language(request: Request[Any, Any, Any]) -> str:
    ctx: AppContext = request.app.state.ctx
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return choose_language(
        chosen, request.headers.get("accept-language"), ctx.settings.default_language
    )


def render(
    request: Request[Any, Any, Any], template: str, *, status: int = 200, **context: Any
) -> Response[str]:
    """The whole page, or only ``block`` when htmx asks for a fragment (``HX-Request`` and not a
    boosted navigation)."""
    ctx: AppContext = request.app.state.ctx
    env: Environment = request.app.state.jinja
    language = request_language(request)
    translations = ctx.catalogs.get(language)
    tpl = env.get_template(template)

    def gettext(message: str, **params: Any) -> str:
        text = translations.gettext(message)
        return text % params if params else text

    values = {
        "gettext": gettext,
        "ngettext": translations.ngettext,
        "_": gettext,
        "csrf_token": ScopeState.from_scope(request.scope).csrf_token or "",
        "kind_label": lambda value: gettext(labels.KIND.get(str(value), str(value))),
        "status_label": lambda value: gettext(labels.STATUS.get(str(value), str(value))),
        "event_label": lambda value: gettext(labels.EVENT.get(str(value), str(value))),
        "role_label": lambda value: gettext(labels.ROLE.get(str(value), str(value))),
        "agent_state_label": lambda value: gettext(labels.AGENT_STATE.get(str(value), str(value))),
        "priority_label": lambda value: gettext(labels.PRIORITY_REASON.get(str(value), str(value))),
        "strategy_label": lambda value: gettext(labels.STRATEGY.get(str(value), str(value))),
        "media_label": lambda value: gettext(labels.MEDIA.get(str(value), str(value))),
        "action_label": lambda value: gettext(labels.ACTION.get(str(value), str(value))),
        "notice_label": lambda value: gettext(labels.NOTICE.get(str(value), str(value))),
        "delivery_label": lambda value: gettext(labels.DELIVERY.get(str(value), str(value))),
        "assignment_label": lambda value: gettext(labels.ASSIGNMENT.get(str(value), str(value))),
        "perms": request.scope.get("state", {}).get("permissions", frozenset()),
        "lang": language,
        "languages": SUPPORTED_LANGUAGES,
        "request": request,
        **context,
    }
    block = context.get("block")
    # A fragment for htmx's own swaps; a boosted link or form (hx-boost) swaps the whole body.
    fragment = request.headers.get("hx-request") == "true" and not request.headers.get("hx-boosted")
    if block and fragment and block in tpl.blocks:
        html = "".join(tpl.blocks[block](tpl.new_context(values)))
    else:
        html = tpl.render(values)
    cookies = []
    chosen = choose_language(request.query_params.get("lang"), None, "")
    if chosen:  # an explicit choice (zh, zh-CN, zh_CN...) is kept as the language it names
        cookies.append(Cookie(key=LANG_COOKIE, value=chosen, max_age=365 * 86400, samesite="lax"))
    return Response(
        html,
        status_code=status,
        media_type="text/html; charset=utf-8",
        cookies=cookies,
        headers={"Content-Language": language.replace("_", "-"), "Vary": "Accept-Language, Cookie"},
    )


MAX_ID = 2**63 - 1  # ids are signed 64-bit integers in the database


def parse_id(text: object) -> int | None:
    """A row id typed into a form or a query: a whole number a row can have, else None."""
    value = str(text or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def from_networks(connection: ASGIConnection[Any, Any, Any, Any], networks: list[str]) -> bool:
    """Does the caller's address fall in one of ``networks`` (CIDR)? An empty list allows any
    address; a caller without an IP address (a test client, a socket) is allowed by none."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(connection.client.host if connection.client else "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)
