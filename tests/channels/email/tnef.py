"""A minimal TNEF (winmail.dat) writer for the tests, after [MS-OXTNEF]: the stream Outlook
attaches when it sends "rich text" mail. Legacy attributes carry the body and each file with
its 8.3 title in the OEM code page; a MAPI attachment block may carry the long Unicode name."""

from __future__ import annotations

import struct

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MESSAGE_CLASS = 0x00078008
ATT_SUBJECT = 0x00018004
ATT_BODY = 0x0002800C
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005
ATT_MSG_PROPS = 0x00069003
PT_BINARY = 0x0102
PR_RTF_COMPRESSED = 0x1009
PT_UNICODE = 0x001F
PR_ATTACH_LONG_FILENAME = 0x3707


def _attribute(level: int, attribute: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attribute, len(data)) + data + struct.pack("<H", checksum)


def _long_name(name: str) -> bytes:
    value = name.encode("utf-16-le") + b"\x00\x00"
    padded = value + b"\x00" * (-len(value) % 4)
    return (
        struct.pack("<I", 1)  # one property
        + struct.pack("<HH", PT_UNICODE, PR_ATTACH_LONG_FILENAME)
        + struct.pack("<II", 1, len(value))
        + padded
    )


def build_tnef(
    body: str,
    files: list[tuple[str, bytes]],
    *,
    codepage: int = 936,
    subject: str = "",
    long_names: bool = False,
    rtf: bytes = b"",
) -> bytes:
    """A winmail.dat: ``body`` and each (name, data), text in the OEM ``codepage``."""
    oem = f"cp{codepage}"
    out = struct.pack("<IH", SIGNATURE, 0x1234)
    out += _attribute(LVL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))
    out += _attribute(LVL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", codepage, 0))
    out += _attribute(LVL_MESSAGE, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\x00")
    if subject:
        out += _attribute(LVL_MESSAGE, ATT_SUBJECT, subject.encode(oem) + b"\x00")
    if body:
        out += _attribute(LVL_MESSAGE, ATT_BODY, body.encode(oem))
    if rtf:  # the body as Outlook keeps it: RTF, compressed (MS-OXRTFCP)
        from compressed_rtf import compress

        packed = compress(rtf)
        out += _attribute(
            LVL_MESSAGE,
            ATT_MSG_PROPS,
            struct.pack("<IHHII", 1, PT_BINARY, PR_RTF_COMPRESSED, 1, len(packed))
            + packed
            + b"\x00" * (-len(packed) % 4),
        )
    for name, data in files:
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, b"\x01\x00" + b"\xff" * 12)
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_TITLE, name.encode(oem) + b"\x00")
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_DATA, data)
        if long_names:
            out += _attribute(LVL_ATTACHMENT, ATT_ATTACHMENT, _long_name(name))
    return out
