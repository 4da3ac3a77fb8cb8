"""The phone menu as data: a TOML document (``menu.toml`` built in, or the site's
``<data dir>/phone-menu.toml``) read into typed nodes and checked whole, so a broken edit is
refused with every problem named instead of failing on a caller."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

BUILT_IN = Path(__file__).with_name("menu.toml")
LANGUAGES = ("zh_CN", "en")  # the hotline's own; a menu may add more (its prompts then too)
DIGITS = set("0123456789*#")
Action = Literal["menu", "voicemail", "status", "callback", "say", "hangup"]


class MenuError(ValueError):
    """The menu document cannot be used; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: dict[str, str]
    options: dict[str, str] = Field(default_factory=dict)
    action: Action = "menu"
    kind: Literal["complaint", "director_mailbox"] = "complaint"
    next: str | None = None


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
    nodes: dict[str, Node]

    @model_validator(mode="after")
    def _coherent(self) -> Menu:
        problems: list[str] = []
        for name in (self.start, self.fallback, self.closed):
            if name not in self.nodes:
                problems.append(f"{name!r} is named but has no [nodes.{name}]")
        for name, node in self.nodes.items():
            missing = [lang for lang in self.languages if not node.prompt.get(lang, "").strip()]
            if missing:
                problems.append(f"nodes.{name}: no prompt in {', '.join(missing)}")
            if node.action == "menu" and not node.options:
                problems.append(f"nodes.{name}: a menu needs options (or an action)")
            if node.action != "menu" and node.options:
                problems.append(f"nodes.{name}: options are for menus; this is a {node.action}")
            for digit, target in node.options.items():
                if len(digit) != 1 or digit not in DIGITS:
                    problems.append(f"nodes.{name}: {digit!r} is not a key of the keypad")
                _, _, goal = target.rpartition(":")
                language = target.partition(":")[0] if ":" in target else None
                if language is not None and language not in self.languages:
                    problems.append(f"nodes.{name}: {language!r} is not a language")
                if goal not in self.nodes:
                    problems.append(f"nodes.{name}: option {digit} goes to unknown {goal!r}")
            if node.action == "say" and (node.next is None or node.next not in self.nodes):
                problems.append(f"nodes.{name}: 'say' needs next = an existing node")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def parse_menu(text: str) -> Menu:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MenuError([f"not TOML: {exc}"]) from None
    try:
        return Menu.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            for line in str(err["msg"]).removeprefix("Value error, ").splitlines():
                lines.append(f"{where}: {line}" if where else line)
        raise MenuError(lines) from None


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
