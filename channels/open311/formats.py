"""Open311 GeoReport v2 answers in JSON or XML, and errors in the specification's shape.

Every answer goes through ``answer`` and every error through ``error``, so the rules hold for
all of them: the exact media types clients check (``application/json``, ``text/xml`` with one
``charset``), and XML that parses whatever text the database holds (characters XML 1.0 cannot
carry, such as a vertical tab from an old e-mail, become U+FFFD instead of breaking the whole
document).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from litestar.response.base import ASGIResponse

JSON_TYPE = "application/json"
XML_TYPE = "text/xml; charset=utf-8"
MEDIA_TYPES = {"json": JSON_TYPE, "xml": XML_TYPE}
FORMATS = ("json", "xml")

# What XML 1.0 cannot carry (its Char production), in text and in attribute values alike.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Open311Error(Exception):
    """Refused with an Open311 error document (``code`` and ``description``)."""

    def __init__(
        self, status: int, description: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.description = description
        self.headers = headers or {}
        super().__init__(description)


def split_format(name: str) -> tuple[str, str]:
    """``"services.json"`` -> ``("services", "json")``."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise Open311Error(404, "not found: the path must end in .json or .xml")
    return stem, fmt


def guess_format(path: str) -> str:
    """The format an error on ``path`` is answered in: XML for ``.xml`` paths, else JSON."""
    return "xml" if path.rstrip("/").lower().endswith(".xml") else "json"


def w3c(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def xml_safe(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else xml_safe(str(value))


def _element(parent: ET.Element, tag: str, value: Any, item_tags: dict[str, str]) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _element(node, key, inner, item_tags)
    elif isinstance(value, list):
        child = item_tags.get(tag, "item")
        for inner in value:
            _element(node, child, inner, item_tags)
    else:
        node.text = _text(value)


def to_xml(
    root: str, item: str | None, data: Any, item_tags: dict[str, str] | None = None
) -> bytes:
    tags = dict(item_tags or {})
    top = ET.Element(root)
    if item is None:
        for key, value in data.items():
            _element(top, key, value, tags)
    else:
        for entry in data:
            _element(top, item, entry, tags)
    document: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + document


def to_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def answer(
    fmt: str,
    data: Any,
    root: str,
    item: str | None,
    *,
    status: int = 200,
    item_tags: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> ASGIResponse:
    body = to_xml(root, item, data, item_tags) if fmt == "xml" else to_json(data)
    return ASGIResponse(
        body=body,
        status_code=status,
        headers={"content-type": MEDIA_TYPES[fmt], **(headers or {})},
    )


def error_document(fmt: str, status: int, description: str) -> bytes:
    data = [{"code": status, "description": description}]
    return to_xml("errors", "error", data) if fmt == "xml" else to_json(data)


def error(
    fmt: str, status: int, description: str, headers: dict[str, str] | None = None
) -> ASGIResponse:
    return answer(
        fmt,
        [{"code": status, "description": description}],
        "errors",
        "error",
        status=status,
        headers=headers,
    )
