"""The ``hotline`` command's account actions and its refusals, run as an operator runs them."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from hotline.core.commands.cli import build_parser
from tests.core.test_cli import run
from tests.processes import add_user


def test_user_list_disable_enable_and_reset_password(tmp_path: Path) -> None:
    assert run(["demo-data", "--days", "1", "--per-day", "1"], tmp_path).returncode == 0
    add_user(tmp_path, "zhao", "agent")
    listed = run(["user", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["user", "role", "department", "state", "second", "factor"]
    zhao = next(line.split() for line in lines if line.startswith("zhao "))
    assert zhao == ["zhao", "agent", "-", "on", "-"]

    assert run(["user", "disable", "zhao"], tmp_path).returncode == 0
    off = run(["user", "list"], tmp_path).stdout
    assert next(line.split() for line in off.splitlines() if line.startswith("zhao "))[3] == "off"
    assert run(["user", "enable", "zhao"], tmp_path).returncode == 0
    on = run(["user", "list"], tmp_path).stdout
    assert next(line.split() for line in on.splitlines() if line.startswith("zhao "))[3] == "on"

    reset = run(["user", "reset-password", "zhao"], tmp_path)
    assert reset.returncode == 0 and "password (shown once)" in reset.stdout
    missing = run(["user", "disable", "nobody"], tmp_path)
    assert missing.returncode == 2 and "no user nobody" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_department_role_needs_its_department_and_the_codes_are_listed(tmp_path: Path) -> None:
    assert run(["demo-data", "--days", "1", "--per-day", "1"], tmp_path).returncode == 0
    refused = run(["user", "add", "sun", "department_officer"], tmp_path)
    assert refused.returncode == 2
    assert "department_officer needs --department CODE" in refused.stderr
    assert "departments:" in refused.stderr and "transport" in refused.stderr
    assert "sun" not in run(["user", "list"], tmp_path).stdout
    wrong = run(["user", "add", "sun", "department_head", "--department", "mars"], tmp_path)
    assert wrong.returncode == 2 and "transport" in wrong.stderr


def test_every_option_has_help(tmp_path: Path) -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing: list[str] = []

    def walk(name: str, parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):  # its commands, each with help
                for sub_name, sub in action.choices.items():
                    walk(f"{name} {sub_name}", sub)
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{name} {action.dest}")

    for name, sub in commands.choices.items():
        walk(name, sub)
    assert missing == []
    shown = run(["user", "-h"], tmp_path)
    assert "department_officer and department_head need --department CODE" in shown.stdout


def test_bad_arguments_are_one_clear_line(tmp_path: Path) -> None:
    no_name = run(["api-key", "add"], tmp_path)
    assert no_name.returncode == 2 and "give the client's name" in no_name.stderr
    assert "(shown once)" not in no_name.stdout
    days = run(["demo-data", "--days", "-3"], tmp_path)
    assert days.returncode == 2 and "--days: -3 is not 1 or more" in days.stderr
    assert run(["migrate"], tmp_path).returncode == 0
    down = run(["migrate", "--downgrade", "xyz"], tmp_path)
    assert down.returncode == 2 and "Traceback" not in down.stderr
    assert "no revision 'xyz'; revisions: base, 0001, 0002" in down.stderr


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = run(["serve", "--port", str(port)], tmp_path)
    assert busy.returncode == 1
    assert busy.stderr.strip().splitlines() == [
        f"cannot listen on 127.0.0.1:{port}: Address already in use"
        " (another program uses it? choose one with --port or HOTLINE_PORT)"
    ]
    assert not (tmp_path / "hotline.db").exists()  # nothing started, nothing migrated
