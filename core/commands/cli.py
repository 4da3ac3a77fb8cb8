"""The ``hotline`` command: serve, worker, migrate, plugins, demo-data, check, jobs."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from hotline.core.delivery.jobs import prepare_job_tables
from hotline.core.foundation import settings as settings_mod
from hotline.core.foundation.logging import configure_logging
from hotline.core.plugin_host.manager import build_plugin_manager
from hotline.core.shell.serving import private_files
from hotline.core.storage import migrate as migrations


def _settings() -> settings_mod.Settings:
    try:
        return settings_mod.load_settings()
    except ValidationError:
        for line in settings_mod.problems():
            print(line, file=sys.stderr)
        raise SystemExit(2) from None


NOTE = "note: "


def cmd_check(_args: argparse.Namespace) -> int:
    found = settings_mod.problems()
    if not found:  # the plugins' own set-up (speech models...), once the settings are sound
        settings = settings_mod.load_settings()
        pm = build_plugin_manager(settings.plugins, settings.disabled_plugins)
        for group in pm.hook.check_setup(settings=settings):
            for line in group or []:
                if line.startswith(NOTE):
                    print(line)  # worth knowing, not a fault
                else:
                    found.append(line)
    if not found:  # follow-up work that gave up is an operator's to look at
        from hotline.core.commands.jobs import dead_line

        line = dead_line(settings_mod.load_settings())
        if line:
            found.append(line)
    for line in found:
        print(line)
    if found:
        return 1
    print("settings ok")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    private_files()
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if args.downgrade:
        known = migrations.revisions()
        if args.downgrade not in (*known, "base"):
            print(
                f"no revision {args.downgrade!r}; revisions: base, {', '.join(known)}",
                file=sys.stderr,
            )
            return 2
        migrations.downgrade(settings.db_url, args.downgrade)
    else:
        migrations.upgrade(settings.db_url)
        prepare_job_tables(settings)
    print(f"database at revision {args.downgrade or migrations.head_revision()}")
    return 0


def cmd_plugins(_args: argparse.Namespace) -> int:
    from hotline.core.plugin_host.manager import describe
    from hotline.core.shell.context import plugin_manager_for

    for name, hooks in describe(plugin_manager_for(_settings())):
        print(f"{name}: {', '.join(hooks) if hooks else '(no hooks)'}")
    return 0


def _private_data_dir(settings: settings_mod.Settings) -> None:
    """A data directory made before ``UMask``/``private_files`` (or by hand) is closed to other
    users: whatever it holds is then out of their reach."""
    data_dir = settings.data_dir
    try:
        mode = data_dir.stat().st_mode & 0o777
        if mode & 0o077 and data_dir.stat().st_uid == os.geteuid():
            data_dir.chmod(mode & 0o700)
            print(f"data directory {data_dir} closed to other users (was {mode:o})")
    except (OSError, KeyError):
        pass


def _first_start(settings: settings_mod.Settings) -> None:
    """Create the data directory, migrate, and make the first administrator."""
    from hotline.core.people.accounts import ensure_first_admin
    from hotline.core.shell.context import open_context

    first = not settings.data_dir.exists()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if first:
        print(f"created data directory {settings.data_dir.resolve()}")
    migrations.upgrade(settings.db_url)
    prepare_job_tables(settings)

    async def admin() -> str | None:
        async with open_context(settings) as ctx:
            return await ensure_first_admin(ctx)

    password = asyncio.run(admin())
    if password:
        # Printed once to the terminal, never to the log; only its hash is stored.
        print("administrator account: admin")
        print(f"administrator password (shown once, change it at first sign-in): {password}")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hotline.core.shell.app import create_app
    from hotline.core.shell.serving import (
        listening_socket,
        raise_open_files_limit,
        server_config,
    )

    private_files()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings_mod.load_settings(**overrides) if overrides else _settings()
    configure_logging(settings.log_level, settings.log_format)
    try:  # bound before anything else starts: a busy port is one line, not a traceback
        sock = listening_socket(settings.host, settings.port)
    except OSError as refused:
        print(
            f"cannot listen on {settings.host}:{settings.port}: {refused.strerror or refused}"
            " (another program uses it? choose one with --port or HOTLINE_PORT)",
            file=sys.stderr,
        )
        return 1
    _first_start(settings)
    _private_data_dir(settings)
    # every connection is a descriptor, and so is every open file and database handle
    raise_open_files_limit(settings.max_connections + 1024)
    app = create_app(settings, owns_process=True)
    print(f"Civic Hotline is running at {settings.url}", flush=True)
    uvicorn.Server(server_config(app, settings)).run(sockets=[sock])
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from hotline.core.shell.context import Kernel
    from hotline.core.shell.live import BackendPublisher, make_backend

    private_files()
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _private_data_dir(settings)
    kernel = Kernel(settings)
    if settings.events_backend != "memory":
        kernel.publisher = BackendPublisher(make_backend(settings))
    kernel.new_context()  # registers the plugins' jobs
    print(f"hotline worker: {len(kernel.jobs.specs)} jobs, {args.workers} threads", flush=True)
    kernel.jobs.run_worker(args.workers, settings.job_poll_seconds)
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from hotline.core.commands.jobs import cmd_jobs as run

    return run(_settings(), args)


def cmd_demo(args: argparse.Namespace) -> int:
    from hotline.core.commands.demo import load_demo

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.db_url)
    counts = asyncio.run(load_demo(settings, days=args.days, per_day=args.per_day))
    print(", ".join(f"{n} {what}" for what, n in counts.items()))
    print_demo_accounts(settings)
    steps = asyncio.run(_demo_history(settings))
    if steps:
        print(f"the demo city's past: {steps} steps taken by its agents, departments and reviewers")
    return 0


async def _demo_history(settings: settings_mod.Settings) -> int:
    from hotline.core.commands.demo_history import play_history
    from hotline.core.shell.context import open_context

    async with open_context(settings) as ctx:
        return await play_history(ctx)


def print_demo_accounts(settings: settings_mod.Settings) -> None:
    """One account per role, each password shown once (demo only; see the README)."""
    from hotline.core.commands.demo_accounts import add_demo_accounts
    from hotline.core.shell.context import open_context

    async def make() -> list[tuple[str, str, str | None]]:
        async with open_context(settings) as ctx:
            return [(n, r.value, p) for n, r, p in await add_demo_accounts(ctx)]

    print("demo accounts, one per role (demo only; each password is shown once):")
    for username, role, password in asyncio.run(make()):
        shown = password if password else "(already there; password unchanged)"
        print(f"  {role:<20} {username:<22} {shown}")


def cmd_api_key(args: argparse.Namespace) -> int:
    """Issue, revoke or list the keys of apps that post through Open311."""
    from hotline.core.people import apikeys
    from hotline.core.shell.context import open_context

    private_files()
    settings = _settings()

    async def run() -> int:
        async with open_context(settings) as ctx:
            if args.action == "add":
                if not args.name.strip():
                    print("give the client's name: hotline api-key add NAME", file=sys.stderr)
                    return 2
                key = await apikeys.issue_key(ctx, args.name)
                print(f"API key for {args.name} (shown once): {key}")
                return 0
            if args.action == "revoke":
                done = await apikeys.revoke_key(ctx, args.name)
                print("revoked" if done else f"no active key with prefix {args.name}")
                return 0 if done else 1
            for client in await apikeys.list_keys(ctx):
                state = "active" if client.active else f"revoked {client.revoked_at:%Y-%m-%d}"
                # "argon2": issued before keyed digests, slow to check until its next use
                kept = "digest" if client.key_digest else "argon2"
                print(f"{client.key_prefix}  {client.name}  {state}  {kept}")
            return 0

    return asyncio.run(run())


def cmd_user(args: argparse.Namespace) -> int:
    """Staff accounts at the command line (``core.commands.users``)."""
    from hotline.core.commands.users import cmd_user as run_user

    private_files()
    return run_user(args, _settings())


def _positive(text: str) -> int:
    """A whole number of at least 1 (argparse says which option it was about)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is not 1 or more")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="Civic Hotline")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate if needed and run the web app (and jobs)")
    serve.add_argument("--host", help="address to listen on (default: HOTLINE_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default: HOTLINE_PORT)")
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run jobs (when HOTLINE_JOBS_IN_PROCESS=false)")
    worker.add_argument(
        "--workers", type=_positive, default=2, help="threads running jobs (default: 2)"
    )
    worker.set_defaults(func=cmd_worker)
    mig = sub.add_parser("migrate", help="bring the database schema up to date")
    mig.add_argument("--downgrade", metavar="REVISION", help="go back to REVISION ('base': empty)")
    mig.set_defaults(func=cmd_migrate)
    sub.add_parser("plugins", help="each loaded plugin and its hooks").set_defaults(
        func=cmd_plugins
    )
    demo = sub.add_parser("demo-data", help="load a demo city: departments, services, cases")
    demo.add_argument(
        "--days", type=_positive, default=7, help="days of cases back from today (default: 7)"
    )
    demo.add_argument("--per-day", type=_positive, default=40, help="cases a day (default: 40)")
    demo.set_defaults(func=cmd_demo)
    sub.add_parser("check", help="list every missing or invalid setting").set_defaults(
        func=cmd_check
    )
    keys = sub.add_parser("api-key", help="Open311 API keys: add NAME, revoke PREFIX, list")
    keys.add_argument(
        "action", choices=["add", "revoke", "list"], help="add NAME, revoke PREFIX or list"
    )
    keys.add_argument(
        "name", nargs="?", default="", help="client name (add) or key prefix (revoke)"
    )
    keys.set_defaults(func=cmd_api_key)
    from hotline.core.commands.users import add_parser as add_user_parser

    add_user_parser(sub)
    sub.choices["user"].set_defaults(func=cmd_user)
    from hotline.core.commands.jobs import add_parser as jobs_parser

    jobs_parser(sub).set_defaults(func=cmd_jobs)
    # Plugins' own commands (e.g. installing a speech model).
    build_plugin_manager().hook.register_commands(subparsers=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
