"""A page the console or the portal renders with an error status (a form shown again with its
mistakes) must be one the layout's htmx swaps in: the pages are boosted, and htmx drops a
response whose status its ``responseHandling`` does not swap, so the user would see nothing
happen. Every status literal the console's and the portal's routes render with is checked
against its layout (the sign-in pages have no boost and may use any)."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATUS = re.compile(r"\bstatus=(4\d\d)\b")  # a page rendered, not an exception
UNBOOSTED = {"routes.py"}  # sign-in, password and TOTP pages: _frame.html, no hx-boost


def swapped(layout: Path) -> list[str]:
    meta = re.search(r"name=\"htmx-config\" content='([^']+)'", layout.read_text())
    assert meta, layout
    return [r["code"] for r in json.loads(meta[1])["responseHandling"] if r.get("swap")]


def statuses(folder: Path) -> list[tuple[str, str]]:
    return [
        (path.name, code)
        for path in sorted(folder.glob("*.py"))
        if path.name not in UNBOOSTED
        for code in STATUS.findall(path.read_text())
    ]


def test_every_error_page_is_swapped_in() -> None:
    for folder, layout in (
        (ROOT / "admin", ROOT / "admin/templates/layout.html"),
        (ROOT / "portal", ROOT / "portal/templates/layout.html"),
    ):
        codes = swapped(layout)
        found = statuses(folder)
        assert found, folder  # the scan sees the routes
        dropped = [
            (name, code) for name, code in found if not any(re.fullmatch(c, code) for c in codes)
        ]
        assert dropped == [], f"{layout.parent.parent.name}: htmx would drop {dropped}"
