"""The Open311 GeoReport v2 documents as JSON Schema, and their XML shapes.

Written for this project from the facts of the specification (wiki.open311.org/GeoReport_v2)
and of the JSON schemas and swagger published by the Open311 community in
github.com/open311/schema-validation (schema/georeport-v2/). Those files carry no licence, so
they are not copied here: the required fields, types, enumerations and limits below are the
same facts, in our own words. ``check_json`` validates an answer with ``jsonschema``;
``check_xml`` parses an XML answer with lxml (a parser other than the one that wrote it) and
checks its shape against the same schema.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from lxml import etree

TEXT_OR_NULL = {"type": ["string", "null"]}
W3C = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
WHEN = {"type": "string", "format": "date-time", "pattern": W3C}
WHEN_OR_NULL = {"type": ["string", "null"], "format": "date-time", "pattern": W3C}

SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": TEXT_OR_NULL,
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": TEXT_OR_NULL,
        "group": TEXT_OR_NULL,
    },
}
VALUE = {
    "type": "object",
    "required": ["key", "name"],
    "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
}
ATTRIBUTE = {
    "type": "object",
    "required": ["variable", "code", "datatype", "required"],
    "properties": {
        "variable": {"type": "boolean"},
        "code": {"type": "string"},
        "datatype": {
            "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
        },
        "required": {"type": "boolean"},
        "datatype_description": TEXT_OR_NULL,
        "order": {"type": ["integer", "null"]},
        "description": TEXT_OR_NULL,
        "values": {"type": "array", "items": VALUE},
    },
}
DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {"type": "array", "items": ATTRIBUTE},
    },
}
REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": {"type": "string", "minLength": 1},
        "status": {"enum": ["open", "closed"]},
        "status_notes": TEXT_OR_NULL,
        "service_name": TEXT_OR_NULL,
        "service_code": {"type": "string"},
        "description": {"type": ["string", "null"], "maxLength": 4000},
        "agency_responsible": TEXT_OR_NULL,
        "service_notice": TEXT_OR_NULL,
        "requested_datetime": WHEN,
        "updated_datetime": WHEN_OR_NULL,
        "expected_datetime": WHEN_OR_NULL,
        "address": TEXT_OR_NULL,
        "address_id": TEXT_OR_NULL,
        "zipcode": TEXT_OR_NULL,
        "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "long": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        # a URI or null: never "" (not a URI)
        "media_url": {"type": ["string", "null"], "format": "uri", "pattern": "^https?://"},
    },
}
POSTED = {
    "type": "object",
    "required": ["service_request_id"],
    "properties": {
        "service_request_id": {"type": "string", "minLength": 1},
        "token": {"type": "string"},
        "service_notice": TEXT_OR_NULL,
        "account_id": TEXT_OR_NULL,
    },
}
TOKEN = {
    "type": "object",
    "required": ["service_request_id", "token"],
    "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}},
}
ENDPOINT = {
    "type": "object",
    "required": ["specification", "url", "changeset", "type", "formats"],
    "properties": {
        "specification": {"type": "string"},
        "url": {"type": "string", "pattern": "^https?://"},
        "changeset": WHEN,
        "type": {"enum": ["production", "test"]},
        "formats": {"type": "array", "items": {"enum": ["text/xml", "application/json"]}},
    },
}
DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": WHEN,
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {"type": "array", "minItems": 1, "items": ENDPOINT},
    },
}
ERROR = {
    "type": "object",
    "required": ["code", "description"],
    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
}


def listing(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


# the document each kind of answer is, as (JSON schema, XML root, XML item tag or None)
DOCUMENTS: dict[str, tuple[dict[str, Any], str, str | None]] = {
    "discovery": (DISCOVERY, "discovery", None),
    "services": (listing(SERVICE), "services", "service"),
    "definition": (DEFINITION, "service_definition", None),
    "requests": (listing(REQUEST), "service_requests", "request"),
    "posted": (listing(POSTED), "service_requests", "request"),
    "token": (listing(TOKEN), "service_requests", "request"),
    "errors": ({**listing(ERROR), "minItems": 1}, "errors", "error"),
}
XML_LISTS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER


def check_json(kind: str, data: Any) -> None:
    schema = DOCUMENTS[kind][0]
    jsonschema.validate(data, schema, format_checker=CHECKER)


def _value(node: Any, schema: dict[str, Any]) -> Any:
    """An XML element read back as the JSON value its schema describes."""
    kinds = schema.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds:
        item = schema["items"]
        return [_value(child, item) for child in node]
    if "object" in kinds:
        properties = schema.get("properties", {})
        return {child.tag: _value(child, properties.get(child.tag, {})) for child in node}
    text = node.text
    if text is None or text == "":
        return None if "null" in kinds else ""
    if "boolean" in kinds:
        assert text in ("true", "false"), text
        return text == "true"
    if "integer" in kinds:
        return int(text)
    if "number" in kinds:
        return float(text)
    return text


def check_xml(kind: str, content: bytes) -> Any:
    """Parse with lxml (no entities, no network), check root and item tags, then the same
    schema as JSON. Returns the document as JSON-like data."""
    schema, root_tag, item_tag = DOCUMENTS[kind]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(content, parser)
    assert root.tag == root_tag, root.tag
    if item_tag is None:
        data = _value(root, schema)
    else:
        assert all(child.tag == item_tag for child in root), [c.tag for c in root]
        data = [_value(child, schema["items"]) for child in root]
    for child in root.iter():
        if child.tag in XML_LISTS:
            assert all(c.tag == XML_LISTS[child.tag] for c in child), child.tag
    jsonschema.validate(data, schema, format_checker=CHECKER)
    return data


def check(kind: str, response: Any, fmt: str) -> Any:
    """Validate an HTTP answer in its format, with the exact media type; returns its data."""
    media = response.headers["content-type"]
    if fmt == "json":
        assert media == "application/json", media
        data = response.json()
        check_json(kind, data)
        return data
    assert media.split(";")[0] == "text/xml" and media.count("charset") == 1, media
    return check_xml(kind, response.content)
