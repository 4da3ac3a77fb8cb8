"""The phone menu as a form: the structured editor's fields read into the menu's document, the
document written back as TOML, and a walk through the menu as a caller meets it (the preview).

The form names its fields ``node-<i>-<field>``; a node's keys are ``node-<i>-key-<k>`` with
``node-<i>-goto-<k>`` (a step) and ``node-<i>-lang-<k>`` (a language the key switches to, or
empty). Blank keys and blank new steps are left out; a step marked for removal is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

import tomli_w

from hotline.core.reference.labels import N_

from .menu import Action, Menu

ACTIONS: tuple[str, ...] = get_args(Action)
KINDS = ("complaint", "director_mailbox")
ACTION_WORDS = {
    "menu": N_("offer a choice of keys"),
    "voicemail": N_("record a voicemail"),
    "status": N_("read out a case's status by its number"),
    "callback": N_("take a request to be called back"),
    "queue": N_("wait in a queue for an agent"),
    "say": N_("say it, then go on"),
    "hangup": N_("hang up"),
}
LANGUAGE_NAMES = {"zh_CN": N_("Chinese"), "en": N_("English")}
SETTINGS = (
    "timeout_seconds",
    "retries",
    "voicemail_max_seconds",
    "silence_seconds",
    "announce_seconds",
)
HEADER = (
    "# The phone menu (IVR) of Civic Hotline, saved from the console's editor.\n"
    "# Each node has a prompt per language and either options (key -> node) or an action.\n\n"
)


MAX_STEPS = 200  # a menu larger than this is not one a caller could find their way through
MAX_KEYS = 32  # twelve keys on a keypad, and room for the editor's spare rows


class FormRefused(ValueError):
    """The form was not one the editor sends (counts that are not small numbers)."""


def _count(form: Mapping[str, str], name: str, limit: int) -> int:
    raw = form.get(name, "0") or "0"
    if not raw.isascii() or not raw.isdigit() or int(raw) > limit:
        raise FormRefused(name)
    return int(raw)


def blank_node() -> dict[str, Any]:
    return {"prompt": {}, "options": {}, "action": "menu"}


def document_from_form(form: Mapping[str, str], languages: list[str]) -> dict[str, Any]:
    """The menu's document as the form describes it (not yet checked)."""
    doc: dict[str, Any] = {"languages": languages}
    for name in ("start", "fallback", "closed", "hours", "announce_recording", *SETTINGS):
        value = form.get(name, "").strip()
        if value:
            doc[name] = value
    nodes: dict[str, dict[str, Any]] = {}
    for i in range(_count(form, "nodes", MAX_STEPS + 1)):
        name = form.get(f"node-{i}-name", "").strip()
        if not name or form.get(f"node-{i}-remove"):
            continue
        action = form.get(f"node-{i}-action", "menu")
        node: dict[str, Any] = {
            "prompt": {lang: form.get(f"node-{i}-prompt-{lang}", "").strip() for lang in languages}
        }
        if action != "menu":
            node["action"] = action
        if action == "voicemail":
            node["kind"] = form.get(f"node-{i}-kind", "complaint")
        if action == "say":
            node["next"] = form.get(f"node-{i}-next", "")
        if action == "queue":
            node["queue"] = form.get(f"node-{i}-queue", "").strip()
        keys = {}
        for k in range(_count(form, f"node-{i}-keys", MAX_KEYS)):
            key = form.get(f"node-{i}-key-{k}", "").strip()
            goal = form.get(f"node-{i}-goto-{k}", "").strip()
            if not key and not goal:
                continue
            switch = form.get(f"node-{i}-lang-{k}", "").strip()
            keys[key] = f"{switch}:{goal}" if switch else goal
        if keys or action == "menu":
            node["options"] = keys
        nodes[name] = node
    doc["nodes"] = nodes
    for name in SETTINGS:  # numbers as numbers in the written file
        if name in doc:
            try:
                doc[name] = int(doc[name]) if name == "retries" else float(doc[name])
            except ValueError:
                pass  # the check names it
    return doc


def rows(doc: dict[str, Any], spare_keys: int = 2) -> list[dict[str, Any]]:
    """The steps as the editor shows them: each with its keys and spare empty keys, then one
    empty step to add."""
    out = []
    for name, node in {**doc.get("nodes", {}), "": blank_node()}.items():
        keys = [
            (key, target.rpartition(":")[2], target.partition(":")[0] if ":" in target else "")
            for key, target in node.get("options", {}).items()
        ]
        out.append(
            {
                "name": name,
                "prompt": node.get("prompt", {}),
                "action": node.get("action", "menu"),
                "kind": node.get("kind", "complaint"),
                "next": node.get("next") or "",
                "queue": node.get("queue") or "",
                "keys": keys + [("", "", "")] * spare_keys,
            }
        )
    return out


def as_toml(doc: dict[str, Any]) -> str:
    ordered = {k: v for k, v in doc.items() if k != "nodes"}
    ordered["nodes"] = doc["nodes"]
    return HEADER + tomli_w.dumps(ordered)


@dataclass
class Step:
    """One step of the menu as a caller meets it, in one language."""

    name: str
    prompt: str
    action: str
    keys: list[tuple[str, str, str]] = field(default_factory=list)  # key, step, language
    next: str | None = None
    queue: str | None = None


def walk(menu: Menu, language: str) -> list[Step]:
    """Every step reachable from the start (then the closed and fallback steps), in the order a
    caller would first meet them."""
    seen: list[str] = []
    for root in (menu.start, menu.closed, menu.fallback):
        queue = [root]
        while queue:
            name = queue.pop(0)
            if name in seen or name not in menu.nodes:
                continue
            seen.append(name)
            node = menu.nodes[name]
            queue += [target.rpartition(":")[2] for target in node.options.values()]
            if node.next:
                queue.append(node.next)
    steps = []
    for name in seen:
        node = menu.nodes[name]
        keys = [
            (key, target.rpartition(":")[2], target.partition(":")[0] if ":" in target else "")
            for key, target in sorted(node.options.items())
        ]
        steps.append(
            Step(name, node.prompt.get(language, ""), node.action, keys, node.next, node.queue)
        )
    return steps
