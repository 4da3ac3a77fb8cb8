"""The administrator edits the phone menu in the console: a broken menu is refused with every
problem named and nothing written; a good one is saved and the line reads it at the next call."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from hotline.channels.phone.menu import BUILT_IN, MenuFile
from tests.admin.conftest import client, sign_in  # noqa: F401


def test_the_menu_is_edited_in_the_console(client: TestClient[Any]) -> None:  # noqa: F811
    data_dir: Path = client.app.state.ctx.settings.data_dir
    sign_in(client, "agent1")
    assert client.get("/console/settings/phone").status_code == 403
    client.get("/console/logout")
    sign_in(client, "administrator1")
    page = client.get("/console/settings/phone")
    assert page.status_code == 200 and "[nodes.main]" in page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    menus = MenuFile(data_dir)
    broken = BUILT_IN.read_text(encoding="utf-8").replace('"4" = "guides"', '"4" = "gides"')
    refused = client.post("/console/settings/phone", data={"_csrf_token": token, "menu": broken})
    assert refused.status_code == 422 and "unknown &#39;gides&#39;" in refused.text
    assert not (data_dir / "phone-menu.toml").exists()
    changed = BUILT_IN.read_text(encoding="utf-8").replace(
        "timeout_seconds = 6", "timeout_seconds = 9"
    )
    saved = client.post("/console/settings/phone", data={"_csrf_token": token, "menu": changed})
    assert saved.status_code == 200 and 'id="saved"' in saved.text
    assert (data_dir / "phone-menu.toml").read_text(encoding="utf-8") == changed
    assert menus.current().timeout_seconds == 9  # the next call hears it
    (data_dir / "phone-menu.toml").write_text("broken = [", encoding="utf-8")
    assert menus.current().timeout_seconds == 9  # a hand-broken file keeps the last good menu


def _form(html: str, form_id: str) -> dict[str, str]:
    """What a browser would send from the form as it is shown."""
    from bs4 import BeautifulSoup

    form = BeautifulSoup(html, "html.parser").find("form", id=form_id)
    assert form is not None
    values: dict[str, str] = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or (field.get("type") == "checkbox" and not field.has_attr("checked")):
            continue
        if field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            values[name] = chosen.get("value", "") if chosen else ""
        elif field.name == "textarea":
            values[name] = field.text
        else:
            values[name] = field.get("value", "")
    return values


def _step_index(values: dict[str, str], name: str) -> int:
    return next(
        int(k.split("-")[1]) for k, v in values.items() if k.endswith("-name") and v == name
    )


def test_the_structured_editor_saves_steps_and_shows_problems_beside_them(
    client: TestClient[Any],  # noqa: F811
) -> None:
    data_dir: Path = client.app.state.ctx.settings.data_dir
    sign_in(client, "administrator1")
    page = client.get("/console/settings/phone?lang=en")
    walk = [
        li["id"]
        for li in __import__("bs4").BeautifulSoup(page.text, "html.parser").select("#walk > li")
    ]
    assert walk[:2] == ["hear-language", "hear-main"]  # the order a caller meets them
    assert "Key 3 → status" in page.text

    values = _form(page.text, "steps")
    guides, new = _step_index(values, "guides"), int(values["nodes"]) - 1
    values[f"node-{new}-name"] = "guide_heat"
    values[f"node-{new}-prompt-zh_CN"] = "供暖问题请在工作时间来电。"
    values[f"node-{new}-prompt-en"] = "For heating, call in working hours."
    values[f"node-{new}-action"] = "say"
    values[f"node-{new}-next"] = "main"
    spare = int(values[f"node-{guides}-keys"]) - 1
    values[f"node-{guides}-key-{spare}"] = "3"
    values[f"node-{guides}-goto-{spare}"] = "guides"  # saved next, then pointed at the new step
    saved = client.post("/console/settings/phone/steps", data=values)
    assert saved.status_code == 200 and 'id="saved"' in saved.text
    menus = MenuFile(data_dir)
    values = _form(saved.text, "steps")
    guides = _step_index(values, "guides")
    key = next(k for k, v in values.items() if k.startswith(f"node-{guides}-key-") and v == "3")
    values[key.replace("-key-", "-goto-")] = "guide_heat"
    assert client.post("/console/settings/phone/steps", data=values).status_code == 200
    menu = menus.current()
    assert menu.nodes["guides"].options["3"] == "guide_heat"
    assert menu.nodes["guide_heat"].next == "main"
    assert menu.nodes["guide_heat"].prompt["zh_CN"] == "供暖问题请在工作时间来电。"

    before = (data_dir / "phone-menu.toml").read_text(encoding="utf-8")
    heat = _step_index(values, "guide_heat")
    values[f"node-{heat}-next"] = ""
    values[f"node-{heat}-prompt-en"] = ""
    refused = client.post("/console/settings/phone/steps?lang=zh_CN", data=values)
    assert refused.status_code == 422
    beside = (
        __import__("bs4")
        .BeautifulSoup(refused.text, "html.parser")
        .select_one("#problems-guide_heat")
    )
    assert beside is not None
    assert "en" in beside.get_text() and "下一步" in beside.get_text()  # in the reader's language
    assert (data_dir / "phone-menu.toml").read_text(encoding="utf-8") == before  # nothing written
    # what was typed comes back
    assert "供暖问题请在工作时间来电。" in refused.text


def test_an_administrator_listens_to_a_step(client: TestClient[Any]) -> None:  # noqa: F811
    import shutil

    import pytest

    if not shutil.which("espeak-ng"):
        if __import__("os").environ.get("CI") == "true":
            pytest.fail("espeak-ng is missing (deploy/test.sh installs it)")
        pytest.skip("espeak-ng is not installed")
    sign_in(client, "administrator1")
    heard = client.get("/console/settings/phone/listen?step=main&lang=en")
    assert heard.status_code == 200 and heard.headers["content-type"].startswith("audio/wav")
    assert heard.content[:4] == b"RIFF" and len(heard.content) > 8000
    assert client.get("/console/settings/phone/listen?step=nowhere&lang=en").status_code == 404


def test_a_form_that_is_not_the_editors_is_refused_at_once(
    client: TestClient[Any],  # noqa: F811
) -> None:
    sign_in(client, "administrator1")
    values = _form(client.get("/console/settings/phone").text, "steps")
    for name, bad in (("nodes", "99999999999999999999"), ("nodes", "abc"), ("node-0-keys", "-1")):
        refused = client.post("/console/settings/phone/steps", data={**values, name: bad})
        assert refused.status_code == 400, (name, bad)
    assert not (client.app.state.ctx.settings.data_dir / "phone-menu.toml").exists()
