"""The corpus: charsets in encoded words, raw 8-bit headers and bodies."""

from __future__ import annotations

import quopri

from tests.channels.email.corpus.make import (
    b64w,
    case,
    message,
    qw,
)

# --- charsets: encoded words, raw 8-bit headers, bodies --------------------------------------
message(
    "c01_gb2312_label_gbk_text.eml",
    sender=b64w("gb2312", "张喆".encode("gbk")) + b" <zhangzhe@example.cn>",
    subject=b64w("gb2312", "关于镕基路的投诉".encode("gbk")),
    ctype=b"text/plain; charset=gb2312",
    body="镕基路张喆家门口积水。".encode("gbk"),
    expect=case("关于镕基路的投诉", "镕基路张喆家门口积水。", from_name="张喆"),
)
message(
    "c02_x_gbk_words.eml",
    sender=qw("x-gbk", "李四") + b" <lisi@example.cn>",
    subject=qw("x-gbk", "路灯不亮了"),
    ctype=b"text/plain; charset=x-gbk",
    body="和平路的路灯已经坏了一周。".encode("gbk"),
    expect=case("路灯不亮了", "和平路的路灯已经坏了一周。", from_name="李四"),
)
message(
    "c03_gb18030_four_byte.eml",
    subject=b64w("gb18030", "地址：𠮷野家对面"),
    ctype=b"text/plain; charset=gb18030",
    body="𠮷野家对面的井盖丢了。".encode("gb18030"),
    expect=case("地址：𠮷野家对面", "𠮷野家对面的井盖丢了。"),
)
message(
    "c04_big5_words.eml",
    sender=b64w("big5", "陳大文") + b" <chan@example.hk>",
    subject=b64w("big5", "路燈故障"),
    ctype=b"text/plain; charset=big5",
    body="中山路的路燈壞了很久。".encode("big5hkscs"),
    expect=case("路燈故障", "中山路的路燈壞了很久。", from_name="陳大文"),
)
message(
    "c05_iso_2022_jp.eml",
    subject=b64w("iso-2022-jp", "道路の陥没について"),
    ctype=b"text/plain; charset=iso-2022-jp",
    cte=b"7bit",
    body="駅前の道路が陥没しています。".encode("iso2022_jp"),
    expect=case("道路の陥没について", "駅前の道路が陥没しています。"),
)
message(
    "c06_latin1_words_and_body.eml",
    sender=qw("iso-8859-1", "Zoë Müller") + b" <zoe@example.de>",
    subject=qw("iso-8859-1", "Rue fermée"),
    ctype=b"text/plain; charset=iso-8859-1",
    body="La rue est fermée depuis lundi.".encode("latin-1"),
    expect=case("Rue fermée", "La rue est fermée depuis lundi.", from_name="Zoë Müller"),
)
message(
    "c07_raw_gbk_headers.eml",
    sender="王五".encode("gbk") + b" <wangwu@example.cn>",
    subject="投诉：下水道堵塞".encode("gbk"),
    ctype=b"text/plain; charset=gbk",
    body="解放路下水道堵塞，污水外溢。".encode("gbk"),
    expect=case("投诉：下水道堵塞", "解放路下水道堵塞，污水外溢。", from_name="王五"),
)
message(
    "c08_raw_latin1_subject.eml",
    subject="Réclamation: éclairage public".encode("latin-1"),
    ctype=b"text/plain",
    cte=b"7bit",
    body=b"The street lights are out.",
    expect=case("Réclamation: éclairage public", "The street lights are out."),
)
message(
    "c09_utf8_body_one_bad_byte.eml",
    subject=b64w("utf-8", "路灯"),
    body="人民路路灯坏了三天".encode() + b"\xff" + "晚上很黑，请修理。".encode(),
    expect=case("路灯", "人民路路灯坏了三天\ufffd晚上很黑，请修理。"),
)
message(
    "c10_utf8_word_one_bad_byte.eml",
    subject=b64w("utf-8", "夜间施工噪音".encode() + b"\xfe" + "扰民严重".encode()),
    body="工地每天夜里施工。".encode(),
    expect=case("夜间施工噪音\ufffd扰民严重", "工地每天夜里施工。"),
)
_split = "关于解放路下水道堵塞的紧急投诉".encode("gbk")
message(
    "c11_folded_split_gbk_words.eml",
    subject=b64w("gbk", _split[:7])
    + b"\r\n "
    + b64w("gbk", _split[7:19])
    + b"\r\n\t"
    + b64w("gbk", _split[19:]),
    ctype=b"text/plain; charset=gbk",
    body="请尽快处理。".encode("gbk"),
    expect=case("关于解放路下水道堵塞的紧急投诉", "请尽快处理。"),
)
_utf = "小区电梯故障已经三天".encode()
message(
    "c12_split_utf8_words.eml",
    subject=b64w("utf-8", _utf[:4]) + b" " + b64w("UTF-8", _utf[4:]),
    body="老人上下楼很困难。".encode(),
    expect=case("小区电梯故障已经三天", "老人上下楼很困难。"),
)
message(
    "c13_bad_charset_names.eml",
    subject=b"=?unknown-8bit?Q?" + quopri.encodestring("公园".encode(), header=True) + b"?=",
    ctype=b'text/plain; charset="utf8x"',
    body="公园的长椅坏了。".encode(),
    expect=case("公园", "公园的长椅坏了。"),
)
message(
    "c14_ascii_label_utf8_body.eml",
    subject=b"Noise",
    ctype=b"text/plain; charset=us-ascii",
    body="楼上装修噪音太大。".encode(),
    expect=case("Noise", "楼上装修噪音太大。"),
)
message(
    "c15_unlabelled_gbk_body.eml",
    subject=b"no charset",
    ctype=b"text/plain",
    body="我们小区门口的垃圾已经一个星期没有人清理了，气味很大，请环卫部门尽快处理。".encode("gbk"),
    expect=case("no charset", "我们小区门口的垃圾已经一个星期没有人清理了"),
)
message(
    "c16_hz_and_qp_body.eml",
    subject=qw("utf-8", "水管爆裂"),
    ctype=b"text/plain; charset=gb2312",
    cte=b"quoted-printable",
    body=quopri.encodestring("东风路水管爆裂，路面结冰。".encode("gbk")),
    expect=case("水管爆裂", "东风路水管爆裂，路面结冰。"),
)
message(
    "c17_encoded_word_in_quotes.eml",
    sender=b'"' + b64w("gbk", "赵六") + b'" <zhaoliu@example.cn>',
    subject=b64w("gbk", "噪音"),
    ctype=b"text/plain; charset=gbk",
    body="广场舞音乐太吵。".encode("gbk"),
    expect=case("噪音", "广场舞音乐太吵。", from_name="赵六"),
)
message(
    "c18_utf8_under_latin1_label.eml",
    sender=b"=?iso-8859-1?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>",
    subject=b"=?iso-8859-1?Q?Stra=C3=9Fe_gesperrt?=",
    ctype=b"text/plain; charset=iso-8859-1",
    body="Die Straße ist gesperrt.".encode(),
    expect=case("Straße gesperrt", "Die Straße ist gesperrt.", from_name="Jürgen Müller"),
)
message(
    "c19_encoded_word_without_end.eml",
    subject=b"Re: " + b64w("utf-8", "积水").removesuffix(b"?="),
    body="还是积水。".encode(),
    expect=case("Re: 积水", "还是积水。"),
)
