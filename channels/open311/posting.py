"""POST /open311/v2/requests: an app's report, checked parameter by parameter, into intake.

Every refusal names the parameter as the specification names it (never an internal field)
and happens before anything is stored. Nothing sent is dropped silently: an attribute the
service does not ask is refused; parameters outside the specification are kept in the
message's meta (``open311.other``) where staff see them; ``media_url`` is kept and published;
an uploaded ``media`` file becomes an attachment.

A client retrying the identical request (same key, same parameters) within the retry window
gets the same ``service_request_id`` back, with 200 instead of 201; after the window the same
parameters are a new request (a second pothole on the same corner).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from hotline.core.intake.checks import find_intake
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused, Problem, parse_submission
from hotline.core.people.apikeys import check_key
from hotline.core.reference.services import public_services
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseKind
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import ApiClient
from hotline.core.storage.models.reference import ServiceCategory

from .formats import Open311Error
from .params import Params
from .reading import PUBLIC_LOCATION

CHANNEL = "open311"
DESCRIPTION_MAX = 4000  # the specification's limit
LIMITS = {  # parameter -> most characters
    "api_key": 100,
    "jurisdiction_id": 100,
    "service_code": 32,
    "lat": 40,
    "long": 40,
    "address_string": 500,
    "address_id": 100,
    "email": 320,
    "phone": 40,
    "device_id": 100,
    "account_id": 100,
    "first_name": 100,
    "last_name": 100,
    "description": DESCRIPTION_MAX,
    "media_url": 2000,
    "lang": 10,
}
ATTRIBUTE = re.compile(r"attribute\[([^\[\]]{1,64})\](\[\])?")
ATTRIBUTE_MAX = 2000
OTHER_MAX = 20  # parameters outside the specification kept, at most


@dataclass
class Posted:
    tracking_number: str
    created: bool
    account_id: str


def _location(params: Params) -> tuple[float | None, float | None]:
    lat, lon = params.one("lat"), params.one("long")
    if bool(lat) != bool(lon):
        raise Open311Error(400, "lat and long go together: give both or neither")
    if not lat:
        if not (params.one("address_string") or params.one("address_id")):
            raise Open311Error(
                400, "a location is required: lat and long, address_string or address_id"
            )
        return None, None
    try:
        latitude, longitude = float(lat), float(lon)
    except ValueError:
        raise Open311Error(400, "lat and long must be numbers (WGS84 degrees)") from None
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise Open311Error(400, "lat must be between -90 and 90")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise Open311Error(400, "long must be between -180 and 180")
    return latitude, longitude


def _check_media_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise Open311Error(400, "media_url must be an http:// or https:// address")


def _valid_value(datatype: str, value: str) -> bool:
    if datatype == "number":
        try:
            return math.isfinite(float(value))
        except ValueError:
            return False
    if datatype == "datetime":
        try:
            if "T" in value:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            else:
                date.fromisoformat(value)
        except ValueError:
            return False
    return True


def attribute_answers(category: ServiceCategory, params: Params) -> dict[str, Any]:
    """The answers to the service's questions. An attribute the service does not ask, a
    value not among the choices, or several values for a one-value question is refused."""
    asked = {str(a["code"]): a for a in category.attributes}
    given: dict[str, list[str]] = {}
    for name in params.names():
        if not name.startswith("attribute"):
            continue
        match = ATTRIBUTE.fullmatch(name)
        if match is None:
            raise Open311Error(400, f"{name} is not an attribute: write attribute[CODE]")
        if match.group(1) not in asked:
            raise Open311Error(
                400, f"attribute[{match.group(1)}] is not a question of this service_code"
            )
        values = [v.strip() for v in params.all(name) if v.strip()]
        given.setdefault(match.group(1), []).extend(values)
    answers: dict[str, Any] = {}
    for code, attr in asked.items():
        values = list(dict.fromkeys(given.get(code, [])))
        datatype = str(attr.get("datatype", "string"))
        if not values:
            if attr.get("required"):
                raise Open311Error(400, f"attribute[{code}] is required")
            continue
        if datatype != "multivaluelist" and len(values) > 1:
            raise Open311Error(400, f"attribute[{code}] takes one value")
        if any(len(v) > ATTRIBUTE_MAX for v in values):
            raise Open311Error(400, f"attribute[{code}] is too long")
        if datatype in ("singlevaluelist", "multivaluelist"):
            allowed = {str(v["key"]) for v in attr.get("values", [])}
            if not set(values) <= allowed:
                raise Open311Error(
                    400, f"attribute[{code}] must be one of {', '.join(sorted(allowed))}"
                )
        elif not _valid_value(datatype, values[0]):
            kind = "a number" if datatype == "number" else "a date or a W3C date and time"
            raise Open311Error(400, f"attribute[{code}] must be {kind}")
        answers[code] = values if datatype == "multivaluelist" else values[0]
    return answers


def _other_parameters(params: Params) -> dict[str, str]:
    known = set(LIMITS) | {"media"}
    other: dict[str, str] = {}
    for name in params.names():
        if name in known or name.startswith("attribute"):
            continue
        if len(other) >= OTHER_MAX:
            raise Open311Error(400, f"too many parameters outside the specification ({name})")
        other[name] = ", ".join(params.all(name))[:500]
    return other


PARAMETER_OF = {  # intake's field -> the Open311 parameter it came from
    "text": "description",
    "citizen_name": "first_name and last_name",
    "location": "address_string",
    "attachments": "media",
    "category": "service_code",
}
SENTENCES = {
    "invalid_email": "is not a valid e-mail address",
    "invalid_phone": "is not a phone number the hotline can call",
    "too_long": "is too long",
    "empty": "is empty: say what happened in description",
    "type_not_allowed": "is not a photo or a PDF file",
    "too_large": "is too large",
    "too_many": "holds too many files",
    "unknown_category": "names no service",
}


def _refusal(problems: list[Problem], contacts: list[dict[str, str]]) -> Open311Error:
    """Intake's problems in Open311's words: the parameter, then what is wrong."""
    lines = []
    for problem in problems:
        head, _, rest = problem.field.partition(".")
        if head == "contacts":
            index = rest.partition(".")[0]
            kinds = [c["kind"] for c in contacts]
            name = kinds[int(index)] if index.isdigit() and int(index) < len(kinds) else "email"
        else:
            name = PARAMETER_OF.get(head, "the request")
        lines.append(f"{name} {SENTENCES.get(problem.code, 'was refused')}")
    return Open311Error(400, "; ".join(dict.fromkeys(lines)))


def _identity(client: ApiClient, params: Params, answers: dict[str, Any]) -> str:
    fields = sorted((name, params.one(name)) for name in LIMITS if name != "api_key")
    files = sorted(hashlib.sha256(u.data).hexdigest() for u in params.uploads)
    raw = repr((client.key_prefix, fields, sorted(answers.items()), files))
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


async def post_request(
    ctx: AppContext, params: Params, *, language: str, address: str | None
) -> Posted:
    for name, most in LIMITS.items():
        if len(params.one(name)) > most:
            raise Open311Error(400, f"{name} may hold at most {most} characters")
    client = await check_key(ctx, params.one("api_key"))
    if client is None:
        raise Open311Error(403, "api_key is missing, unknown or revoked")
    code = params.one("service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    category = next((c for c in await public_services(ctx) if c.code == code), None)
    if category is None:
        raise Open311Error(404, "service_code not found")
    latitude, longitude = _location(params)
    media_url = params.one("media_url")
    if media_url:
        _check_media_url(media_url)
    answers = attribute_answers(category, params)
    other = _other_parameters(params)
    uploads = [u for u in params.uploads if u.name == "media"]
    if len(uploads) != len(params.uploads):
        raise Open311Error(400, "the only file a request may carry is media")
    contacts = [{"kind": "email", "value": params.one("email")}] if params.one("email") else []
    if params.one("phone"):
        contacts.append({"kind": "phone", "value": params.one("phone")})
    name = " ".join(p for p in (params.one("first_name"), params.one("last_name")) if p)
    open311: dict[str, Any] = {
        "client": client.name,
        "client_prefix": client.key_prefix,
        "device_id": params.one("device_id"),
        "account_id": params.one("account_id"),
        "address_id": params.one("address_id"),
        "media_url": media_url or None,
        "attributes": answers,
    }
    if other:
        open311["other"] = other
    # The same request again within the retry window is the same request (a retry).
    identity = _identity(client, params, answers)
    bucket = int(utcnow().timestamp() // (ctx.settings.open311_retry_minutes * 60))
    keys = [f"{identity}:{bucket}", f"{identity}:{bucket - 1}"]
    earlier = await find_intake(ctx, CHANNEL, keys)
    data = {
        "channel": CHANNEL,
        "external_id": earlier or keys[0],
        "kind": CaseKind.REPORT,
        "text": params.one("description") or category.name(language),
        "category": category.code,
        "language": language,
        "citizen_name": name or None,
        "contacts": contacts,
        "location": {
            "text": params.one("address_string") or None,
            "latitude": latitude,
            "longitude": longitude,
        },
        "attachments": [{"filename": u.filename, "data": u.data} for u in uploads],
        # An app posting through Open311 publishes by the standard's rules: the place is
        # listed (rounded, see reading.py). Apps tell their users so (README).
        "meta": {"open311": open311, PUBLIC_LOCATION: "coarse"},
        "address": address,
    }
    try:
        result = await receive(ctx, parse_submission(data))
    except IntakeRefused as refused:
        raise _refusal(refused.problems, contacts) from None
    return Posted(result.tracking_number, result.created, params.one("account_id"))
