"""The plugin manager: one per app instance, built from DEFAULT_PLUGINS, settings and entry points."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pluggy
from pluggy import HookImpl, Result

from hotline.core.plugin_host import hookspecs

hookimpl = pluggy.HookimplMarker("hotline")

# Our own features, registered exactly like third-party plugins.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "hotline.plugins.routing",
    "hotline.plugins.strategies",
    "hotline.plugins.distribution",
    "hotline.plugins.outbox",
    "hotline.plugins.timers",
    "hotline.plugins.acknowledge",
    "hotline.plugins.transcription",
    "hotline.plugins.api",
    "hotline.plugins.reports",
    "hotline.channels.web",
    "hotline.channels.email",
    "hotline.channels.fax",
    "hotline.channels.sms",
    "hotline.channels.chat.telegram",
    "hotline.channels.chat.webchat",
    "hotline.channels.phone",
    "hotline.speech",
    "hotline.channels.open311",
    "hotline.portal",
    "hotline.admin",
)

log = logging.getLogger("hotline.plugins")


def build_plugin_manager(
    extra: list[str] | tuple[str, ...] = (),
    disabled: list[str] | tuple[str, ...] = (),
    entry_points: bool = True,
    trace: bool = False,
) -> pluggy.PluginManager:
    """Load built-ins, then ``extra`` modules, then the ``hotline`` entry-point group.

    A plugin named in ``disabled`` (module name or entry-point name) is not loaded.
    """
    pm = pluggy.PluginManager("hotline")
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        pm.set_blocked(name)
    for name in (*DEFAULT_PLUGINS, *extra):
        if pm.is_blocked(name):
            continue
        pm.register(importlib.import_module(name), name=name)
    if entry_points:
        pm.load_setuptools_entrypoints("hotline")
    pm.check_pending()
    if trace:
        _trace(pm)
    return pm


def _trace(pm: pluggy.PluginManager) -> None:
    """Log each hook call by name and implementers only: arguments may hold personal data."""

    def before(hook_name: str, impls: Sequence[HookImpl], _kwargs: Mapping[str, Any]) -> None:
        log.info("hook call", extra={"hook": hook_name, "plugins": [i.plugin_name for i in impls]})

    def after(
        _outcome: Result[Any],
        hook_name: str,
        _impls: Sequence[HookImpl],
        _kwargs: Mapping[str, Any],
    ) -> None:
        log.debug("hook done", extra={"hook": hook_name})

    pm.add_hookcall_monitoring(before, after)


def describe(pm: pluggy.PluginManager) -> list[tuple[str, list[str]]]:
    """Each loaded plugin and the hooks it implements, for ``hotline plugins``."""
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        rows.append((name, hooks))
    return rows
