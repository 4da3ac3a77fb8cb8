"""The Open311 discovery document (``/open311/discovery.{json,xml}``).

Its URLs come from ``HOTLINE_PUBLIC_URL`` (else the configured host and port), never from the
request's Host header, which anyone can set. ``changeset`` is when the document's content last
changed: a digest of the content and the time it was first served are kept in the data
directory, so a new public URL or format gives a later changeset and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from hotline.core.shell.context import AppContext
from hotline.core.storage.models.base import utcnow

SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]
ITEM_TAGS = {"endpoints": "endpoint", "formats": "format"}


def base_url(ctx: AppContext) -> str:
    return ctx.settings.url.rstrip("/")


def _content(ctx: AppContext) -> dict[str, Any]:
    base = base_url(ctx)
    return {
        "contact": f"{ctx.settings.mail_name} {ctx.settings.mail_address}".strip(),
        "key_service": f"Ask the hotline's administrator for an API key: {base}/",
        "endpoints": [
            {
                "specification": SPEC,
                "url": f"{base}/open311/v2",
                "type": "production",
                "formats": FORMATS,
            }
        ],
    }


def _changeset(path: Path, digest: str) -> str:
    try:
        kept = json.loads(path.read_text())
        if kept.get("digest") == digest:
            return str(kept["changeset"])
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    changeset = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"digest": digest, "changeset": changeset}))
    temporary.replace(path)  # atomic: a reader sees the old record or the new one
    return changeset


def document(ctx: AppContext) -> dict[str, Any]:
    content = _content(ctx)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    changeset = _changeset(ctx.settings.data_dir / "open311" / "discovery.json", digest)
    endpoints = [
        {
            "specification": e["specification"],
            "url": e["url"],
            "changeset": changeset,
            "type": e["type"],
            "formats": e["formats"],
        }
        for e in content["endpoints"]
    ]
    return {
        "changeset": changeset,
        "contact": content["contact"],
        "key_service": content["key_service"],
        "endpoints": endpoints,
    }
