"""Who reads a citizen's own words on the case page: the browser that sent the case, or one that
gave the full lookup code. The weaker route (last four digits of the phone and the name) shows
the status and the dates only."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.portal.conftest import csrf, page, text_of
from tests.portal.test_portal import receipt, submit

WORDS = "我家门口的下水道堵了"
SUBJECT = "下水道"


def _open(browser: TestClient[Any], number: str, factor: str, name: str = "") -> str:
    answer = browser.post(
        "/track",
        data={"_csrf_token": csrf(browser), "number": number, "factor": factor, "name": name},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/cases/{number}"
    return text_of(page(browser.get(f"/cases/{number}?lang=en")))


def test_the_citizens_words_need_the_sending_browser_or_the_full_code(
    client: TestClient[Any],
) -> None:
    submit(client, name="韩梅梅", description=WORDS, subject=SUBJECT)
    number, code = receipt(client)

    # the browser that sent it reads its words without any code
    sender = text_of(page(client.get(f"/cases/{number}?lang=en")))
    assert "What you wrote" in sender and WORDS in sender

    # another browser, by the phone's last four digits and the name: status and dates only
    weak = TestClient(client.app)
    shown = _open(weak, number, "8000", "韩梅梅")
    assert "Received" in shown and "Answer due by" in shown and "Timeline" in shown
    assert WORDS not in shown and "What you wrote" not in shown and "Road damage" not in shown
    assert "shows the status and the dates only" in shown and "Enter the lookup code" in shown
    # the old address of the last case looked up says no more
    assert WORDS not in text_of(page(weak.get("/track/case?lang=en")))

    # the same browser then gives the lookup code: now it is theirs to read
    upgraded = _open(weak, number, code)
    assert WORDS in upgraded and "dates only" not in upgraded

    # a third browser with the full code reads them at once
    coded = _open(TestClient(client.app), number, code)
    assert WORDS in coded and "What you wrote" in coded


def test_the_weaker_route_shows_no_words_in_chinese_either(client: TestClient[Any]) -> None:
    submit(client, name="韩梅梅", description=WORDS)
    number, _code = receipt(client)
    weak = TestClient(client.app)
    _open(weak, number, "8000", "韩梅梅")
    shown = text_of(page(weak.get(f"/cases/{number}?lang=zh_CN")))
    assert WORDS not in shown and "已受理" in shown
    assert "查询码" in shown
