"""Where a staff member goes after signing in: back to the console page they were sent away
from, on this site only (an open redirect would let a link send a fresh session anywhere)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

HOME = "/console"


def safe_next(value: object) -> str | None:
    """``value`` if it is a path of this site's console (no scheme, no host, no backslash, no
    control character); else None."""
    text = str(value or "")
    if not text or len(text) > 2000 or "\\" in text or any(ord(c) < 32 for c in text):
        return None
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or text.startswith("//"):
        return None
    if not (parts.path == HOME or parts.path.startswith(HOME + "/")):
        return None
    if parts.path.startswith(("/console/login", "/console/logout", "/console/totp")):
        return None
    return text


def login_address(path: str, query: str = "") -> str:
    """The sign-in page that sends the browser back to ``path`` (with its query) afterwards."""
    target = path + (f"?{query}" if query else "")
    if safe_next(target) is None or target == HOME:
        return "/console/login"
    return "/console/login?next=" + quote(target, safe="")
