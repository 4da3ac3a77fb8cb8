"""The phone menu as data: a TOML document (``menu.toml`` built in, or the site's
``<data dir>/phone-menu.toml``) read into typed nodes and checked whole, so a broken edit is
refused with every problem named instead of failing on a caller."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline.core.reference.labels import N_

BUILT_IN = Path(__file__).with_name("menu.toml")
LANGUAGES = ("zh_CN", "en")  # the hotline's own; a menu may add more (its prompts then too)
DIGITS = set("0123456789*#")
Action = Literal["menu", "voicemail", "status", "callback", "queue", "say", "hangup"]
QUEUE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # a skill group's code


class MenuError(ValueError):
    """The menu document cannot be used; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str], details: list[Problem] | None = None) -> None:
        self.problems = problems
        self.details = details or []  # the same, to show in the reader's language
        super().__init__("; ".join(problems))


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: dict[str, str]
    options: dict[str, str] = Field(default_factory=dict)
    action: Action = "menu"
    kind: Literal["complaint", "director_mailbox"] = "complaint"
    next: str | None = None
    queue: str | None = None  # the skill group (queue) a `queue` step puts the caller in


class Menu(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str
    languages: list[str] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    timeout_seconds: float = Field(6, gt=0, le=60)
    retries: int = Field(2, ge=0, le=5)
    fallback: str
    hours: Literal["office", "always"] = "office"
    closed: str
    voicemail_max_seconds: float = Field(120, gt=0, le=600)
    silence_seconds: float = Field(5, gt=0, le=60)
    # a caller waiting for an agent hears their place in line and the expected wait this often
    announce_seconds: float = Field(45, ge=10, le=600)
    # a caller entering the queue hears, before an agent answers, that the talk is recorded
    announce_recording: bool = True
    nodes: dict[str, Node]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a menu: where (a node, or ``""`` for the whole menu), and why, as a
    catalog message with its values, so the console shows it in the reader's language."""

    node: str
    message: str
    values: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = self.message % self.values
        return f"nodes.{self.node}: {text}" if self.node else text


def coherence(menu: Menu) -> list[Problem]:
    """What makes a well-formed menu unusable: steps named but missing, prompts missing in a
    language, menus without keys, keys that lead nowhere."""
    problems: list[Problem] = []
    for name in (menu.start, menu.fallback, menu.closed):
        if name not in menu.nodes:
            problems.append(
                Problem("", N_("'%(name)s' is named but there is no such step"), {"name": name})
            )
    for name, node in menu.nodes.items():
        missing = [lang for lang in menu.languages if not node.prompt.get(lang, "").strip()]
        if missing:
            problems.append(
                Problem(name, N_("no prompt in %(languages)s"), {"languages": ", ".join(missing)})
            )
        if node.action == "menu" and not node.options:
            problems.append(Problem(name, N_("a menu needs keys (or another action)")))
        if node.action != "menu" and node.options:
            problems.append(Problem(name, N_("keys are for menus only")))
        for digit, target in node.options.items():
            if len(digit) != 1 or digit not in DIGITS:
                problems.append(
                    Problem(name, N_("'%(key)s' is not a key of the keypad"), {"key": digit})
                )
            _, _, goal = target.rpartition(":")
            language = target.partition(":")[0] if ":" in target else None
            if language is not None and language not in menu.languages:
                problems.append(
                    Problem(
                        name,
                        N_("'%(language)s' is not a language of this menu"),
                        {"language": language},
                    )
                )
            if goal not in menu.nodes:
                problems.append(
                    Problem(
                        name,
                        N_("key %(key)s goes to unknown '%(target)s'"),
                        {"key": digit, "target": goal},
                    )
                )
        if node.action == "say" and (node.next is None or node.next not in menu.nodes):
            problems.append(Problem(name, N_("after speaking, the caller needs a next step")))
        if node.action == "queue" and not QUEUE_CODE.match(node.queue or ""):
            problems.append(Problem(name, N_("a wait for an agent needs the queue it waits in")))
        if node.action != "queue" and node.queue:
            problems.append(Problem(name, N_("only a wait for an agent names a queue")))
    return problems


def parse_menu(text: str) -> Menu:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MenuError([f"not TOML: {exc}"]) from None
    return validate_menu(data)


def validate_menu(data: dict[str, Any]) -> Menu:
    """The menu from its parsed document, refused with every problem named."""
    try:
        menu = Menu.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
        raise MenuError(lines) from None
    found = coherence(menu)
    if found:
        raise MenuError([str(p) for p in found], found)
    return menu


def menu_path(data_dir: Path) -> Path:
    """The site's menu when it has one, else the built-in."""
    site = data_dir / "phone-menu.toml"
    return site if site.exists() else BUILT_IN


def load_menu(data_dir: Path) -> Menu:
    return parse_menu(menu_path(data_dir).read_text(encoding="utf-8"))


class MenuFile:
    """The menu as the line uses it: read again when the file changed (the console saves the
    site's menu; the next call hears it). A broken file keeps the last good menu."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.menu = load_menu(data_dir)
        self.seen = self._stamp()

    def _stamp(self) -> tuple[str, int]:
        path = menu_path(self.data_dir)
        return str(path), path.stat().st_mtime_ns

    def current(self) -> Menu:
        stamp = self._stamp()
        if stamp != self.seen:
            self.seen = stamp
            try:
                self.menu = load_menu(self.data_dir)
            except MenuError:
                pass  # the console refuses broken menus; a hand-edited one waits to be fixed
        return self.menu
