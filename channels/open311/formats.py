"""Open311 GeoReport v2 answers in JSON or XML, errors in the specification's shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from litestar import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        self.status = status
        self.description = description
        super().__init__(description)


def split_format(name: str) -> tuple[str, str]:
    """``"services.json"`` -> ``("services", "json")``; an unknown format is a 400... in JSON."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise Open311Error(400, "the format must be .json or .xml")
    return stem, fmt


def w3c(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


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
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


def answer(
    fmt: str,
    data: Any,
    root: str,
    item: str | None,
    *,
    status: int = 200,
    item_tags: dict[str, str] | None = None,
) -> Response[Any]:
    if fmt == "xml":
        return Response(
            to_xml(root, item, data, item_tags), media_type=FORMATS["xml"], status_code=status
        )
    return Response(data, media_type=FORMATS["json"], status_code=status)


def error(fmt: str, status: int, description: str) -> Response[Any]:
    return answer(
        fmt, [{"code": status, "description": description}], "errors", "error", status=status
    )
