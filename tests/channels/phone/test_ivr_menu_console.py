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
