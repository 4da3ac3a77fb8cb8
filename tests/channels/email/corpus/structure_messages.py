"""The corpus: alternatives, split bodies, forwards, TNEF, broken MIME, duplicates."""

from __future__ import annotations

import base64
import quopri

from tests.channels.email.corpus.make import (
    PDF,
    PNG,
    b64w,
    case,
    corpus,
    expected,
    message,
    multipart,
)
from tests.channels.email.tnef import build_tnef

# --- structure: alternatives, split bodies, forwards, TNEF, broken MIME -----------------------
message(
    "s01_alternative_qp_gb2312.eml",
    subject=b64w("gb2312", "噪音投诉"),
    ctype=b'multipart/alternative; boundary="alt"',
    cte=b"",
    body=multipart(
        "alt",
        b"Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: quoted-printable"
        b"\r\n\r\n" + quopri.encodestring("楼下工地夜间施工，噪音很大。".encode("gbk")),
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        + "<p>楼下工地<b>夜间施工</b>，噪音很大。</p>".encode(),
    ),
    expect=case("噪音投诉", "楼下工地夜间施工，噪音很大。", from_html=False),
)
message(
    "s02_html_only_big5.eml",
    subject=b64w("big5", "垃圾清運"),
    ctype=b"text/html; charset=big5",
    body="<html><body><p>垃圾三天沒有清運。</p><script>alert(1)</script></body></html>".encode(
        "big5"
    ),
    expect=case("垃圾清運", "垃圾三天沒有清運。", text_lacks=["alert", "<p>"], from_html=True),
)
message(
    "s03_text_split_around_image.eml",
    subject=b64w("utf-8", "井盖丢失"),
    ctype=b'multipart/mixed; boundary="mix"',
    cte=b"",
    body=multipart(
        "mix",
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "井盖丢失，见图：".encode(),
        b"Content-Type: image/png\r\nContent-Disposition: inline\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PNG),
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "位置在学校门口，很危险。".encode(),
    ),
    expect=case("井盖丢失", ["井盖丢失，见图：", "位置在学校门口，很危险。"], files=["part-1.png"]),
)
_inner = (
    b"From: "
    + b64w("gbk", "邻居")
    + b" <neighbour@example.cn>\r\nSubject: "
    + b64w("gbk", "小区停水")
    + b"\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=gbk\r\n\r\n" + "我们小区已经停水两天了。".encode("gbk")
)
message(
    "s04_forward_base64.eml",
    subject=b64w("utf-8", "转发：小区停水"),
    ctype=b'multipart/mixed; boundary="fw"',
    cte=b"",
    body=multipart(
        "fw",
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "转发邻居的邮件，请处理。".encode(),
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(_inner),
    ),
    expect=case(
        "转发：小区停水",
        ["转发邻居的邮件，请处理。", "小区停水", "我们小区已经停水两天了。"],
        text_lacks=["RnJvbTog"],
    ),
)
message(
    "s05_forward_quoted_printable.eml",
    subject=b"Fwd: water",
    ctype=b'multipart/mixed; boundary="fw"',
    cte=b"",
    body=multipart(
        "fw",
        b"Content-Type: text/plain\r\n\r\nSee below.",
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + quopri.encodestring(_inner),
    ),
    expect=case("Fwd: water", ["See below.", "我们小区已经停水两天了。"]),
)
_middle = (
    b"From: a@example.cn\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="in"\r\n\r\n'
    + multipart(
        "in",
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "第二层转发。".encode(),
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(_inner),
    )
)
message(
    "s06_forward_nested.eml",
    subject=b"Fwd: Fwd",
    ctype=b'multipart/mixed; boundary="out"',
    cte=b"",
    body=multipart(
        "out",
        b"Content-Type: text/plain\r\n\r\nTwice forwarded.",
        b"Content-Type: message/rfc822\r\n\r\n" + _middle,
    ),
    expect=case("Fwd: Fwd", ["Twice forwarded.", "第二层转发。", "我们小区已经停水两天了。"]),
)
_tnef = build_tnef(
    "市民反映：桥下涵洞积水，车辆无法通行。",
    [("现场照片.png", PNG), ("letter.pdf", PDF)],
    subject="涵洞积水",
)
message(
    "s07_winmail_dat_only.eml",
    subject=b64w("gbk", "涵洞积水"),
    ctype=b'multipart/mixed; boundary="tn"',
    cte=b"",
    body=multipart(
        "tn",
        b'Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
        b'Content-Disposition: attachment; filename="winmail.dat"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(_tnef),
    ),
    expect=case(
        "涵洞积水", "市民反映：桥下涵洞积水，车辆无法通行。", files=["现场照片.png", "letter.pdf"]
    ),
)
message(
    "s08_text_and_winmail_long_names.eml",
    subject=b"Outlook rich text",
    ctype=b'multipart/mixed; boundary="tn"',
    cte=b"",
    body=multipart(
        "tn",
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "附件是情况说明。".encode(),
        b"Content-Type: application/vnd.ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(build_tnef("", [("情况说明很长的文件名.pdf", PDF)], long_names=True)),
    ),
    expect=case("Outlook rich text", "附件是情况说明。", files=["情况说明很长的文件名.pdf"]),
)
_rtf = (
    rb"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0\fnil\fcharset134 SimSun;}}\f0 "
    + "".join(f"\\'{b:02x}" for b in "桥洞积水已经一周。".encode("gbk")).encode()
    + rb"\par \u25105?\u20204?\u31561?\u24453?\u22788?\u29702?\u12290?\par}"
)
message(
    "s08b_winmail_rtf_body.eml",
    subject=b"Outlook RTF",
    ctype=b'multipart/mixed; boundary="tn"',
    cte=b"",
    body=multipart(
        "tn",
        b"Content-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(build_tnef("", [("photo.png", PNG)], rtf=_rtf)),
    ),
    expect=case("Outlook RTF", ["桥洞积水已经一周。", "我们等待处理。"], files=["photo.png"]),
)
message(
    "s09_multipart_without_boundary.eml",
    subject=b"broken mime",
    ctype=b"multipart/mixed",
    cte=b"",
    body=b"--x\r\nContent-Type: text/plain\r\n\r\nThe bridge railing is broken.\r\n--x--\r\n",
    expect=case("broken mime", "The bridge railing is broken."),
)
message(
    "s10_truncated_base64.eml",
    subject=b"truncated",
    cte=b"base64",
    body=base64.encodebytes("垃圾桶满了没人清理，已经好几天了。".encode())[:-9],
    expect=case("truncated", "垃圾桶满了没人清理"),
)
message(
    "s11_nul_bytes.eml",
    subject=b"nul",
    body="路面\x00塌陷\x00。".encode(),
    # IMAP cannot carry NUL: Dovecot gives 0x80 in its place, which is no UTF-8
    expect=case("nul", "路面塌陷。", imap_text_has=["路面\ufffd塌陷\ufffd。"]),
)
message(
    "s12_huge_headers.eml",
    subject=b64w("utf-8", "长" * 400),
    headers=b"References: "
    + b" ".join(f"<r{i}@x.example>".encode() for i in range(8000))
    + b"\r\nX-Filler: "
    + b"a" * 100_000
    + b"\r\n",
    body="标题很长。".encode(),
    expect=case("长" * 300, "标题很长。"),
)
message(
    "s13_no_message_id.eml",
    subject=b"no id",
    mid=None,
    body=b"A message without a Message-ID.",
    expect=case("no id", "A message without a Message-ID."),
)
for letter, text in (("a", "第一封：东门路灯坏了。"), ("b", "第二封：西门井盖丢了。")):
    message(
        f"s14_reused_message_id_{letter}.eml",
        subject=b"template",
        mid="<same-template-id@bad-client.example>",
        body=text.encode(),
        expect=case("template", text),
    )
message(
    "s15_rfc2231_gbk_filename.eml",
    subject=b"photo",
    ctype=b'multipart/mixed; boundary="f"',
    cte=b"",
    body=multipart(
        "f",
        b"Content-Type: text/plain\r\n\r\nPhoto attached.",
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename*=gb2312''"
        + "".join(f"%{b:02X}" for b in "喆的照片.png".encode("gbk")).encode()
        + b"\r\n\r\n"
        + base64.encodebytes(PNG),
    ),
    expect=case("photo", "Photo attached.", files=["喆的照片.png"]),
)
corpus["s16_redelivered_copy.eml"] = (
    b"Received: from relay2.example.cn by mx.example.cn; Tue, 01 Dec 2026 09:31:00 +0800\r\n"
    b"Delivered-To: 12345@hotline.example.cn\r\n" + corpus["s14_reused_message_id_a.eml"]
)
expected["s16_redelivered_copy.eml"] = {"outcome": "duplicate", "reason": "duplicate"}

message(
    "s18_multipart_signed.eml",
    subject=b64w("utf-8", "签名邮件"),
    ctype=b'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;'
    b' boundary="sig"',
    cte=b"",
    body=multipart(
        "sig",
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "路口红绿灯不亮。".encode(),
        b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
        b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;"
        b" filename=smime.p7s\r\n\r\n" + base64.encodebytes(b"0\x82\x01\x00 not a real signature"),
    ),
    expect=case("签名邮件", "路口红绿灯不亮。", files=[]),
)
message(
    "s19_smime_encrypted.eml",
    subject=b64w("utf-8", "加密邮件"),
    ctype=b'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
    cte=b"base64",
    headers=b'Content-Disposition: attachment; filename="smime.p7m"\r\n',
    body=base64.encodebytes(b"0\x80\x06\x09 encrypted bytes nobody here can read"),
    # the text is the subject; the encrypted file is refused and noted, the raw kept
    expect=case("加密邮件", "加密邮件", files=[]),
)
