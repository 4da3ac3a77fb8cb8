"""Every hook of Civic Hotline: the plugin author's reference.

Implement a hook by decorating a function with ``hookimpl`` (``from hotline.plugins import
hookimpl``... see ``hotline.core.plugin_host.manager.hookimpl``) and listing the module in
``DEFAULT_PLUGINS`` (ours) or in the ``hotline`` entry-point group of your distribution (yours).

Conventions:

* Hooks are called with keyword arguments; an implementation takes only the ones it uses.
* A hook may return a value or an awaitable; the caller in core awaits what needs awaiting.
* ``firstresult`` hooks stop at the first non-``None`` answer. An implementation that does not
  apply must return ``None`` synchronously: an ``async def`` always "answers".
* Built-in defaults are registered ``trylast=True``; a site plugin overrides them by answering.
* Each hook is called from exactly one place in core, through a small typed function that
  checks the result (named in each docstring).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from hotline.core.axd.selection import Candidate, Situation
    from hotline.core.cases.replies import OutboundMessage
    from hotline.core.cases.transcripts import Transcript
    from hotline.core.delivery.events import CaseEventMessage
    from hotline.core.delivery.jobs import JobSpec, ListenerSpec
    from hotline.core.foundation.settings import Settings
    from hotline.core.intake.routing import Route
    from hotline.core.intake.submission import Submission
    from hotline.core.shell.context import AppContext
    from hotline.core.storage.models.axd import QueueItem
    from hotline.core.storage.models.cases import Case
    from hotline.core.storage.models.reference import ServiceCategory

hookspec = pluggy.HookspecMarker("hotline")

# --- Registration: called once when an app or worker is built -------------------------------


@hookspec
def register_routes(ctx: AppContext) -> Sequence[Any]:
    """Return Litestar route handlers, controllers or routers to mount on the app.

    A channel's inbound webhook, the portal's pages and the console's screens arrive here.
    Handlers reach the kernel through ``request.app.state.ctx`` (an ``AppContext``).
    Called by ``hotline.core.shell.app.plugin_routes``.
    """


@hookspec
def register_jobs(ctx: AppContext) -> Sequence[JobSpec]:
    """Return ``JobSpec`` objects: plain ``async def job(ctx, **kwargs)`` functions, optionally
    periodic (a huey ``crontab``).

    Work that must not be lost is follow-up work of the job outbox (``core/storage/outbox.py``): a
    spec with ``on_events=("received", ...)`` runs once for every case event of those actions,
    its row written in the event's own transaction (arguments ``case_id``, ``event_id``); or
    core code writes a row with ``outbox.add(session, job, key=...)``. Such a job is removed
    only when it returned; ``reconcile`` lets the reconciliation find work that should exist
    and does not. Raise ``hotline.core.delivery.followups.TryLater`` to be run again later uncounted.

    Jobs run in-process on the embedded default and in ``hotline worker`` processes at scale;
    they must be idempotent, since a job may run again after a crash.
    Called by ``hotline.core.shell.context.Kernel.new_context``.
    """


@hookspec
def register_listeners(ctx: AppContext) -> Sequence[ListenerSpec]:
    """Return ``ListenerSpec`` objects: long-running ``async def listen(ctx, stop)`` functions
    (IMAP IDLE, a bot's long polling) that return once ``stop`` is set.

    They run in threads of their own wherever the job workers run (inside ``serve`` on the
    embedded default, in each ``hotline worker`` at scale), so several may run at once: what
    they trigger must be idempotent. One that fails is started again after a pause.
    Called by ``hotline.core.shell.context.Kernel.new_context``.
    """


@hookspec
def register_commands(subparsers: Any) -> None:
    """Add subcommands to the ``hotline`` command line: ``subparsers`` is argparse's; call
    ``subparsers.add_parser(name, help=...)`` and ``set_defaults(func=handler)``, where
    ``handler(args) -> int`` is the exit status. Called by ``hotline.core.commands.cli.build_parser``
    with the built-in plugins and entry-point plugins (settings are not read yet).
    """


@hookspec
def check_setup(settings: Settings) -> Sequence[str]:
    """Return problems with this plugin's set-up, one line each, naming the setting to change
    (e.g. an engine switched on but not installed). ``hotline check`` prints them after the
    settings' own problems and exits non-zero when there are any; a line starting with
    ``note: `` is printed as information only (e.g. a language with no speech model). Called by
    ``hotline.core.commands.cli.cmd_check``.
    """


@hookspec
def register_console_routes(ctx: AppContext) -> Sequence[Any]:
    """Return console route handlers (staff screens) from a plugin. They are mounted in the
    console's router, behind its staff session, CSRF check, post rate limit and network guard;
    guard each handler with ``hotline.admin.guards.requires(permission)``."""


@hookspec
def register_templates() -> Sequence[str]:
    """Return names of packages whose ``templates/`` folder joins the Jinja loader.

    Templates are addressed as ``<package last part>/<file>``, e.g. ``portal/home.html``.
    Called by ``hotline.core.shell.web.template_packages``.
    """


# --- Case lifecycle -----------------------------------------------------------------------


@hookspec(firstresult=True)
def route_case(
    ctx: AppContext, case: Case, category: ServiceCategory | None, submission: Submission | None
) -> Route | str | Awaitable[Route | str | None] | None:
    """firstresult: where a new case should go: a ``Route`` (department code and the reason
    shown to the agent), a bare department code, or ``None`` to pass.

    Runs before the case is written (``case`` is a draft without an id; ``submission`` is what
    the channel sent); read what you need, write nothing. The built-in rules answer last:
    keyword rules, district rules, then the category's default department. The agent sees the
    suggestion; it is dispatched without an agent only where the category has automatic
    dispatch on. An unknown code is ignored (the case waits unrouted in the hotline).
    Called by ``hotline.core.intake.routing.route_case``.
    """


@hookspec(firstresult=True)
def process_held(
    ctx: AppContext, channel: str, raw: bytes, source: str
) -> str | Awaitable[str | None] | None:
    """firstresult: read a held message again, when ``channel`` is yours; return what became of
    it (``case``, ``added``, ``duplicate``, ``ignored``... or ``held`` when it still cannot be
    read), or ``None`` for another channel's message. A person asked for it from the held
    messages list, often after a fix. Called by ``hotline.admin.held.held_step``.
    """


@hookspec
def case_event(ctx: AppContext, event: CaseEventMessage) -> Awaitable[None] | None:
    """Told of every case event after its transaction committed (never before).

    ``event`` carries the case id, tracking number, action and public detail, never personal
    data. Use it for what may be missed now and then: live screens, offering a contact at
    once. It is told once, by the process that committed, and not at all if that process dies
    right after the commit: what must happen (an acknowledgement, a message) is a job with
    ``on_events`` (see ``register_jobs``). Failures are logged and do not undo the committed
    change. Called by ``hotline.core.delivery.events.EventBus.deliver``.
    """


# --- The AXD queue ----------------------------------------------------------------------------


@hookspec(firstresult=True)
def choose_agent(
    ctx: AppContext, item: QueueItem, candidates: Sequence[Candidate], situation: Situation
) -> int | Awaitable[int | None] | None:
    """firstresult: the user id of the agent to offer ``item`` to, from ``candidates``.

    Every candidate is available, speaks the item's language, has its skills and has free
    capacity for its medium (a call takes an agent whole). ``situation`` tells the item's queue
    rules (its strategy, offer time, when tiers widen), how long it has waited, the citizen's
    region, who last served them, and whether they are a priority citizen. A strategy answers
    with one of the candidates' ids, or ``None`` to let the next strategy decide. The built-ins
    (``hotline.plugins.strategies``) answer last, by the queue's strategy, and may answer
    ``None`` when nobody suitable is free yet. An id that is not a candidate is ignored.
    Called by ``hotline.core.axd.selection.choose``.
    """


# --- Replies --------------------------------------------------------------------------------


@hookspec(firstresult=True)
def send_reply(ctx: AppContext, message: OutboundMessage) -> str | Awaitable[str | None] | None:
    """firstresult: deliver ``message`` to the citizen if this channel owns its contact kind.

    Return the channel's delivery id (any non-``None`` string) once the gateway accepted it;
    return ``None`` synchronously when the contact kind is not yours; raise to report a
    failure (the job retries with backoff, then marks the message failed on its case).
    Called by ``hotline.core.cases.replies.deliver``.
    """


@hookspec(firstresult=True)
def send_staff_mail(
    ctx: AppContext,
    to: Sequence[str],
    subject: str,
    text: str,
    attachments: Sequence[tuple[str, str, bytes]],
) -> Awaitable[str | None] | None:
    """firstresult: mail staff (a scheduled report): ``attachments`` are (file name, media type,
    bytes). Return the message's id once the server took it; ``None`` when mail out is not set
    up; raise when the server refuses (the caller tries again later)."""


# --- Speech -------------------------------------------------------------------------------


@hookspec(firstresult=True)
def transcribe(
    ctx: AppContext, audio: bytes, content_type: str, language: str, hinted: bool
) -> Transcript | Awaitable[Transcript | None] | None:
    """firstresult: the words spoken in ``audio`` (WAV, Ogg/Opus, ... as ``content_type``
    says) in ``language`` (``zh_CN``, ``en``, ``fr``...), as a ``Transcript``. Return ``None``
    synchronously when you have no engine or model for that language, so another engine may
    answer. ``hinted`` is true when the caller chose the language (the phone menu, a chat's
    language); when false ``language`` is only the case's and an engine may detect the spoken
    language among the hotline's own. Heavy work must not block the event loop (run it in a
    thread). Called by
    ``hotline.core.cases.transcripts.transcribe_interaction``, a job run for every interaction that
    arrives with audio (voicemail, Telegram voice notes).
    """
