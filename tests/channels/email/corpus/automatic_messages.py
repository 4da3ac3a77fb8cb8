"""The corpus: mail no person wrote (ignored with the reason) and unreadable mail (held)."""

from __future__ import annotations

from tests.channels.email.corpus.make import (
    TO,
    b64w,
    corpus,
    expected,
    message,
    multipart,
)


# --- mail no person wrote: ignored with the reason --------------------------------------------
def ignored(reason: str) -> dict[str, object]:
    return {"outcome": "ignored", "reason": reason}


message(
    "a01_auto_submitted.eml",
    subject=b"Re: your case",
    headers=b"Auto-Submitted: auto-replied\r\n",
    body=b"I am away.",
    expect=ignored("auto_reply"),
)
message(
    "a02_x_autoreply.eml",
    subject=b"Away",
    headers=b"X-Autoreply: yes\r\n",
    body=b"Away until Monday.",
    expect=ignored("auto_reply"),
)
message(
    "a03_precedence_bulk.eml",
    subject=b"Newsletter",
    headers=b"Precedence: bulk\r\n",
    body=b"Our monthly news.",
    expect=ignored("bulk"),
)
message(
    "a04_list_id.eml",
    subject=b"[residents] meeting",
    headers=b"List-Id: Residents <residents.lists.example.cn>\r\n",
    body=b"Meeting on Friday.",
    expect=ignored("list"),
)
message(
    "a05_out_of_office_zh.eml",
    subject=b64w("utf-8", "自动回复：我正在休假"),
    body="我正在休假。".encode(),
    expect=ignored("auto_reply"),
)
message(
    "a06_dsn_delayed.eml",
    sender=b"Mail Delivery System <MAILER-DAEMON@mx.example.cn>",
    subject=b"Delivery Status Notification (Delay)",
    ctype=b'multipart/report; report-type=delivery-status; boundary="r"',
    cte=b"",
    body=multipart(
        "r",
        b"Content-Type: text/plain\r\n\r\nStill trying.",
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.cn\r\n\r\n"
        b"Final-Recipient: rfc822; someone@example.org\r\nAction: delayed\r\nStatus: 4.4.1\r\n",
    ),
    expect=ignored("report"),
)
message(
    "a07_dsn_failed_not_ours.eml",
    sender=b"Mail Delivery System <MAILER-DAEMON@mx.example.cn>",
    subject=b"Undelivered Mail Returned to Sender",
    ctype=b'multipart/report; report-type=delivery-status; boundary="r"',
    cte=b"",
    body=multipart(
        "r",
        b"Content-Type: text/plain\r\n\r\nCould not deliver.",
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.cn\r\n\r\n"
        b"Final-Recipient: rfc822; nobody@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n",
        b"Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <someone-else@example.org>\r\n",
    ),
    expect={"outcome": "bounce", "reason": "bounce"},
)
message(
    "a08_read_receipt.eml",
    subject=b"Read: your answer",
    ctype=b'multipart/report; report-type=disposition-notification; boundary="r"',
    cte=b"",
    body=multipart(
        "r",
        b"Content-Type: text/plain\r\n\r\nYour message was read.",
        b"Content-Type: message/disposition-notification\r\n\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n",
    ),
    expect=ignored("report"),
)
message(
    "a09_human_reply_marked_bulk.eml",
    sender=b"Zhao Liu <zhaoliu@example.cn>",
    subject=b64w("utf-8", "补充材料"),
    headers=b"Precedence: bulk\r\n",
    body="我补充一下：积水在地铁站B口。".encode(),
    expect=ignored("bulk"),
)

# --- unreadable: held for a person ------------------------------------------------------------
corpus["u01_no_from.eml"] = (
    TO + b"Subject: anonymous\r\nMessage-ID: <u01@corpus.example.cn>\r\n\r\nNo sender at all.\r\n"
)
expected["u01_no_from.eml"] = {"outcome": "held", "reason": "no sender"}
corpus["u02_not_mail.eml"] = b"\x89PNG\r\n\x1a\n\x00\x00binary garbage\x00\xff\xfe"
expected["u02_not_mail.eml"] = {"outcome": "held", "reason": "no sender"}
