"""Pure functions: the portal's form fields -> a Submission, with every problem named."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.core.intake.submission import AttachmentIn, Problem
from hotline.core.storage.enums import CaseKind

from .uploads import MAX_PIXELS, CleanFile, UploadRefused, clean_upload

CITIZEN_KINDS = (
    CaseKind.COMPLAINT,
    CaseKind.REPORT,
    CaseKind.REQUEST,
    CaseKind.CONSULTATION,
    CaseKind.SUGGESTION,
    CaseKind.PRAISE,
)
DUPLICATE_WINDOW_SECONDS = 10 * 60


@dataclass
class FormResult:
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


def _float(value: str) -> float | None:
    try:
        return float(value) if value.strip() else None
    except ValueError:
        return None


def answer_attributes(
    definition: list[dict[str, Any]], form: dict[str, list[str]], problems: list[Problem]
) -> dict[str, Any]:
    """The service's extra questions, checked against its definition."""
    answers: dict[str, Any] = {}
    for attr in definition:
        code = str(attr["code"])
        datatype = attr.get("datatype", "string")
        values = [v for v in form.get(f"attr_{code}", []) if v.strip()]
        allowed = {str(v["key"]) for v in attr.get("values", [])}
        if not values:
            if attr.get("required"):
                problems.append(Problem(field=f"attr_{code}", code="required", message=code))
            continue
        if datatype == "multivaluelist":
            if not set(values) <= allowed:
                problems.append(Problem(field=f"attr_{code}", code="not_a_choice", message=code))
            answers[code] = values
            continue
        value = values[0].strip()
        if datatype == "singlevaluelist" and value not in allowed:
            problems.append(Problem(field=f"attr_{code}", code="not_a_choice", message=code))
        elif datatype == "number" and _float(value) is None:
            problems.append(Problem(field=f"attr_{code}", code="not_a_number", message=code))
        elif datatype == "datetime":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                problems.append(Problem(field=f"attr_{code}", code="not_a_date", message=code))
        answers[code] = value
    return answers


def clean_files(
    files: list[tuple[str, bytes]],
    max_files: int,
    max_bytes: int,
    problems: list[Problem],
    *,
    max_pixels: int = MAX_PIXELS,
    workers: int = 1,
) -> list[CleanFile]:
    """Every file checked; a refused file is named, and nothing is kept when any is refused."""
    files = [(name, data) for name, data in files if name or data]
    if len(files) > max_files:
        problems.append(Problem(field="files", code="too_many", message=str(max_files)))
        return []
    cleaned = []
    for name, data in files:
        try:
            cleaned.append(
                clean_upload(
                    name or "file", data, max_bytes, max_pixels=max_pixels, workers=workers
                )
            )
        except UploadRefused as exc:
            problems.append(Problem(field="files", code=exc.code, message=exc.filename))
    return cleaned


def duplicate_key(
    contact: str, text: str, at: datetime, window: int = DUPLICATE_WINDOW_SECONDS
) -> list[str]:
    """External ids for "the same contact and text within minutes": this window's and the
    previous one's, so two clicks across a window's edge still meet."""
    bucket = int(at.timestamp()) // window
    base = f"{contact.strip().lower()}\x00{' '.join(text.split())}"
    return [
        "form-" + hashlib.sha256(f"{base}\x00{b}".encode()).hexdigest()[:40]
        for b in (bucket, bucket - 1)
    ]


def form_to_submission(
    form: dict[str, list[str]],
    cleaned: list[CleanFile],
    *,
    kind_default: CaseKind,
    category: str | None,
    language: str,
    address: str | None,
    problems: list[Problem],
) -> dict[str, Any]:
    """The Submission's fields from a portal form (validated again by intake)."""

    def one(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    kind = one("kind") or kind_default
    if kind not in {str(k) for k in (*CITIZEN_KINDS, CaseKind.DIRECTOR_MAILBOX)}:
        problems.append(Problem(field="kind", code="not_a_choice", message=kind))
        kind = kind_default
    if one("consent") != "yes":
        problems.append(Problem(field="consent", code="consent_required", message="consent"))
    contacts = []
    if one("phone"):
        contacts.append({"kind": "phone", "value": one("phone")})
    if one("email"):
        contacts.append({"kind": "email", "value": one("email")})
    location = None
    lat, lon = _float(one("latitude")), _float(one("longitude"))
    if one("location") or lat is not None or lon is not None:
        location = {"text": one("location") or None, "latitude": lat, "longitude": lon}
    return {
        "channel": "web",
        "kind": kind,
        "subject": one("subject"),
        "text": one("description"),
        "category": category,
        "language": language,
        "citizen_name": one("name") or None,
        "contacts": contacts,
        "location": location,
        "contact_hidden": one("anonymous") == "yes",
        "attachments": [AttachmentIn(filename=f.filename, data=f.data) for f in cleaned],
        "address": address,
    }
