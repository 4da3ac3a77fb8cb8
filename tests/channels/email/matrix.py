"""Messages made for each combination of the classes that garbled mail: a charset (its label
and what senders really put under it) x how the headers carry it (RFC 2047 B words, Q words,
or raw 8-bit bytes) x the message's structure (plain, alternative, a forwarded message in
base64, text around an inline image), with the body's transfer encoding rotating through
8bit, base64 and quoted-printable. Each comes with the exact subject, sender's name and text a
person must read."""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass

# (label, codec the sender used, subject, sender's name, body)
CHARSETS = [
    ("gb2312", "gbk", "关于镕基路积水的投诉", "张喆", "镕基路张喆家门口积水三天。"),
    ("gbk", "gbk", "下水道堵塞", "王五", "解放路下水道堵塞，污水外溢。"),
    ("x-gbk", "gbk", "路灯不亮了", "李四", "和平路的路灯已经坏了一周。"),
    ("gb18030", "gb18030", "𠮷野家门口井盖丢失", "𠮷田", "𠮷野家对面的井盖丢了。"),
    ("big5", "big5hkscs", "路燈故障已久", "陳大文", "中山路的路燈壞了很久。"),
    ("iso-2022-jp", "iso2022_jp", "道路の陥没について", "山田太郎", "駅前の道路が陥没しています。"),
    ("shift_jis", "cp932", "騒音の苦情", "佐藤花子", "夜遅くまで工事の音がうるさいです。"),
    ("euc-kr", "cp949", "도로 파손 신고", "김민수", "도로가 크게 파손되었습니다."),
    ("iso-8859-1", "cp1252", "Rue fermée à Noël", "Zoë Müller", "La rue est fermée depuis lundi."),
    ("koi8-r", "koi8_r", "Яма на дороге", "Иван Петров", "На улице Ленина большая яма."),
    ("utf-8", "utf-8", "路灯不亮 – 人民路", "李四", "人民路路灯坏了三天，晚上很黑。"),
]
HEADERS = ("B", "Q", "raw")
STRUCTURES = ("plain", "alternative", "forwarded", "image")
CTES = ("8bit", "base64", "quoted-printable")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class Made:
    name: str
    raw: bytes
    message_id: str
    subject: str
    from_name: str
    text: str
    files: tuple[str, ...] = ()


def _word(style: str, label: str, codec: str, text: str) -> bytes:
    data = text.encode(codec)
    if style == "B":
        return b"=?" + label.encode() + b"?B?" + base64.b64encode(data) + b"?="
    if style == "Q":  # in a phrase only letters, digits and !*+-/ may stay (RFC 2047 5(3))
        q = b"".join(
            bytes([c]) if (chr(c).isalnum() and c < 128) or c in b"!*+-/" else b"=%02X" % c
            for c in data
        )
        return b"=?" + label.encode() + b"?Q?" + q + b"?="
    return data  # raw 8-bit (iso-2022-jp's escapes are 7-bit)


def _encode(data: bytes, cte: str) -> bytes:
    if cte == "base64":
        return base64.encodebytes(data)
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    return data


def _part(ctype: bytes, data: bytes, cte: str) -> bytes:
    body = _encode(data, cte)
    return (
        b"Content-Type: "
        + ctype
        + b"\r\nContent-Transfer-Encoding: "
        + cte.encode()
        + b"\r\n\r\n"
        + body
    )


def _multipart(boundary: bytes, *parts: bytes) -> bytes:
    return b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + (
        b"--" + boundary + b"--\r\n"
    )


def made() -> list[Made]:
    found = []
    number = 0
    for label, codec, subject, name, body in CHARSETS:
        text_type = b"text/plain; charset=" + label.encode()
        for style in HEADERS:
            raw_subject = _word(style, label, codec, subject)
            # raw ISO-2022-JP in a From name can hold "(" or "<": only its subject goes raw
            name_style = "B" if style == "raw" and codec == "iso2022_jp" else style
            raw_name = _word(name_style, label, codec, name)
            if style == "raw" and label != "utf-8":
                try:  # valid UTF-8 by chance is read as UTF-8, as every mail reader does
                    raw_subject.decode("utf-8")
                    raw_name.decode("utf-8")
                except UnicodeDecodeError:
                    pass
                else:
                    if not raw_subject.isascii():
                        continue
            for structure in STRUCTURES:
                cte = CTES[number % len(CTES)]
                number += 1
                mid = f"<matrix-{number}@matrix.example.cn>"
                data = body.encode(codec)
                files: tuple[str, ...] = ()
                if structure == "plain":
                    ctype, content = text_type, _encode(data, cte)
                elif structure == "alternative":
                    ctype = b'multipart/alternative; boundary="alt"'
                    html = b"text/html; charset=" + label.encode()
                    content = _multipart(
                        b"alt",
                        _part(text_type, data, cte),
                        _part(html, b"<p>" + data + b"</p>", cte),
                    )
                    head_cte = b""
                elif structure == "forwarded":
                    inner = (
                        b"From: neighbour@example.cn\r\nSubject: fw\r\nMIME-Version: 1.0\r\n"
                        + _part(text_type, data, cte)
                    )
                    ctype = b'multipart/mixed; boundary="fw"'
                    content = _multipart(
                        b"fw",
                        _part(b"text/plain; charset=us-ascii", b"Forwarded.", "7bit"),
                        _part(b"message/rfc822", inner, "base64"),
                    )
                    head_cte = b""
                else:
                    ctype = b'multipart/mixed; boundary="img"'
                    content = _multipart(
                        b"img",
                        _part(text_type, data, cte),
                        b"Content-Type: image/png\r\nContent-Disposition: inline;"
                        b' filename="photo.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
                        + base64.encodebytes(PNG),
                        _part(text_type, b"(end)", cte),
                    )
                    files = ("photo.png",)
                    head_cte = b""
                if structure == "plain":
                    head_cte = b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n"
                raw = (
                    b"From: " + raw_name + b" <citizen" + str(number).encode() + b"@example.cn>\r\n"
                    b"To: 12345@hotline.example.cn\r\nSubject: " + raw_subject + b"\r\n"
                    b"Date: Tue, 01 Dec 2026 10:00:00 +0800\r\nMessage-ID: "
                    + mid.encode()
                    + b"\r\n"
                    b"MIME-Version: 1.0\r\nContent-Type: "
                    + ctype
                    + b"\r\n"
                    + head_cte
                    + b"\r\n"
                    + content
                )
                found.append(
                    Made(
                        name=f"{label}/{style}/{structure}/{cte}",
                        raw=raw,
                        message_id=mid,
                        subject=subject,
                        from_name=name,
                        text=body,
                        files=files,
                    )
                )
    return found
