"""A received fax -> a ``Submission``: the image kept as received and as a PDF, its text read
by OCR as the case's text (marked machine-read), the sender's fax number as the contact when
the gateway gives it. Pure apart from the OCR call it is given the result of."""

from __future__ import annotations

import hashlib
import re

from hotline.core.cases.contacts import InvalidContact, normalise
from hotline.core.intake.submission import AttachmentIn, ContactIn, Submission
from hotline.core.storage.enums import CaseKind, ContactKind

from .convert import Reading

CHANNEL = "fax"
FAX_TYPES = ("image/tiff", "application/pdf")
# HylaFAX's FaxDispatch and most fax-to-mail services name the sender in the subject
SENDER = re.compile(r"(?i)(?:from|sender|来自|发件人)[:：]?\s*(\+?[\d][\d\s\-().]{5,}\d)")


def sender_number(*texts: str) -> str | None:
    for text in texts:
        found = SENDER.search(text or "")
        if found:
            return re.sub(r"[\s\-().]", "", found.group(1))
    return None


def fax_submission(
    data: bytes,
    content_type: str,
    *,
    reading: Reading,
    pdf: bytes,
    filename: str,
    sender: str | None,
    external_id: str | None,
    region: str,
    max_text: int,
) -> Submission:
    contacts = []
    meta: dict[str, object] = {
        "machine_read": True,
        "ocr": reading.engine,
        "pages": reading.pages,
        "ocr_seconds": round(reading.seconds, 2),
    }
    if sender:
        try:
            contacts.append(
                ContactIn(kind=ContactKind.FAX, value=normalise(ContactKind.FAX, sender, region))
            )
        except InvalidContact:
            meta["sender"] = sender[:40]  # kept as the gateway said it, not as a contact
    text = reading.text[:max_text]
    if len(reading.text) > max_text:
        meta["text_cut"] = len(reading.text)
    attachments = [AttachmentIn(filename=filename[:255] or "fax", data=data)]
    if pdf is not data:
        stem = filename.rsplit(".", 1)[0] or "fax"
        attachments.append(AttachmentIn(filename=f"{stem}.pdf", data=pdf))
    return Submission(
        channel=CHANNEL,
        external_id=external_id or "sha256:" + hashlib.sha256(data).hexdigest(),
        kind=CaseKind.COMPLAINT,
        text=text,
        language="zh_CN" if re.search(r"[\u4e00-\u9fff]", text) or not text else "en",
        contacts=contacts,
        attachments=attachments,
        meta=meta,
    )
