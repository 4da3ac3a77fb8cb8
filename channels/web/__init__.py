"""The web channel: a portal form turned into a Submission for the one intake.

No hooks yet: the portal plugin renders the forms and calls ``submit_form``; answers to web
citizens go by the phone or e-mail they left, through those channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio

from hotline.core.cases.lookup import lookup_code
from hotline.core.intake.checks import check_content, find_intake
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused, Problem, parse_submission
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseKind
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.reference import ServiceCategory

from .inbound import answer_attributes, clean_files, duplicate_key, form_to_submission


@dataclass
class FormOutcome:
    problems: list[Problem] = field(default_factory=list)
    tracking_number: str | None = None
    lookup_code: str | None = None


async def submit_form(
    ctx: AppContext,
    fields: dict[str, list[str]],
    files: list[tuple[str, bytes]],
    *,
    service: ServiceCategory | None,
    language: str,
    address: str | None,
) -> FormOutcome:
    """Check everything (files, the service's questions, contacts, consent), then intake.
    The same contact and text within minutes returns the first case instead of a second."""
    settings = ctx.settings
    problems: list[Problem] = []
    cleaned = await anyio.to_thread.run_sync(
        lambda: clean_files(
            files,
            settings.max_attachments,
            settings.max_attachment_bytes,
            problems,
            max_pixels=settings.max_image_pixels,
            workers=settings.image_workers,
        )
    )
    answers = answer_attributes(service.attributes if service else [], fields, problems)
    data = form_to_submission(
        fields,
        cleaned,
        kind_default=CaseKind.COMPLAINT if service else CaseKind.DIRECTOR_MAILBOX,
        category=service.code if service else None,
        language=language,
        address=address,
        problems=problems,
    )
    if service is None:
        data["kind"] = CaseKind.DIRECTOR_MAILBOX
    if answers:
        data["meta"] = {"attributes": answers}
    if service is not None and (fields.get("publish_location") or [""])[0] == "yes":
        # the citizen agreed to a rounded place on the public Open311 list (nothing else)
        data.setdefault("meta", {})["public_location"] = "coarse"
    who = next((c["value"] for c in data["contacts"]), None) or address or ""
    keys = duplicate_key(who, data["text"], utcnow())
    earlier = await find_intake(ctx, "web", keys)
    data["external_id"] = earlier or keys[0]
    try:
        submission = parse_submission(data)
    except IntakeRefused as refused:
        return FormOutcome(problems + refused.problems)
    if problems:
        return FormOutcome(problems + check_content(ctx, submission))
    try:
        result = await receive(ctx, submission)
    except IntakeRefused as refused:
        return FormOutcome(refused.problems)
    return FormOutcome(
        tracking_number=result.tracking_number,
        lookup_code=lookup_code(ctx.secret_key, result.tracking_number),
    )
