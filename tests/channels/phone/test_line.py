"""The whole phone line as a caller meets it: SIPp dials the line (baresip engine, the IVR on
the site's menu, prompts by espeak-ng, the kernel's desk), hears the menu, presses keys (RFC
2833 and SIP INFO) and speaks. A French voicemail becomes a case with the caller's number, the
recording and a transcript by the real French Vosk model; the status of a case is read back to
the caller by keypad; twenty callers at once, in English and in Mandarin, each end in their own
case (a complaint, or a sealed message for the director); and a caller on a second baresip
hears the Mandarin menu, chooses by RFC 2833 and leaves a message for the director."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy import select

from hotline.channels.phone import texts
from hotline.channels.phone.desk import KernelDesk
from hotline.channels.phone.ivr import Caller, Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.core.cases.lookup import lookup_code
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.cases import Attachment, Case, ContactPoint, Interaction
from hotline.core.storage.models.reference import RoutingRule
from tests.channels.phone.lines import line_with
from tests.conftest import drain_jobs, need, seed_city
from tests.sipcallers import (
    BaresipCaller,
    Ear,
    Scenario,
    read_8k,
    run_sipp,
    similarity,
    speech,
    voice_pcap,
)
from tests.speech.fixtures import (
    FRENCH_MODEL,
    french_available,
    install_french,
    reference,
    spoken,
    word_error_rate,
)
from tests.speech.whisper import link_whisper

pytestmark = pytest.mark.slow

MENU = """
start = "language"
languages = ["zh_CN", "en", "fr"]
hours = "always"
fallback = "complaint"
closed = "complaint"
timeout_seconds = 5
retries = 1
silence_seconds = 2
voicemail_max_seconds = 20
[nodes.language]
prompt = { zh_CN = "普通话请按1", en = "English, press 2", fr = "Français, tapez 3" }
options = { "1" = "zh_CN:main", "2" = "en:main", "3" = "fr:main" }
[nodes.main]
prompt = { zh_CN = "反映问题请按1，市长信箱请按2，查询请按3", en = "Complaints 1, director 2, status 3", fr = "Plainte 1, directeur 2, suivi 3" }
options = { "1" = "complaint", "2" = "director", "3" = "status" }
[nodes.complaint]
prompt = { zh_CN = "请在提示音后留言", en = "Speak after the tone", fr = "Parlez après le bip" }
action = "voicemail"
kind = "complaint"
[nodes.director]
prompt = { zh_CN = "请给市长留言", en = "Your message for the director", fr = "Message au directeur" }
action = "voicemail"
kind = "director_mailbox"
[nodes.status]
prompt = { zh_CN = "请输入工单编号", en = "Enter the case number, then hash", fr = "Numéro du dossier" }
action = "status"
"""
# Measured through the whole line (the caller's PCMU, baresip, the 8 kHz recording resampled to
# 16 kHz): fr-01 WER 0.33 on every run (3 of 9 words: "je voudrais énervé à lampadaire café dans
# ma rue"); 0.22 at 8 kHz without G.711. The bound allows one word more, since where the
# recording starts moves by a packet or two between runs.
FRENCH_BOUND = 0.45


async def cases_made(ctx: AppContext, count: int, timeout: float = 20.0) -> list[Case]:
    """The cases, once ``count`` exist: the line makes them as each recording ends."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with ctx.db.session() as s:
            cases = list(await s.scalars(select(Case).order_by(Case.id)))
        if len(cases) >= count or asyncio.get_running_loop().time() > deadline:
            return cases
        await asyncio.sleep(0.2)


def seconds(path: Path) -> float:
    return float(soundfile.info(str(path)).duration)


def ms(value: float) -> int:
    return int(value * 1000)


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """One database is enough here: the kernel's own tests cover PostgreSQL."""
    target = tmp_path / "data" / "hotline.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def phone(ctx: AppContext) -> AsyncIterator[tuple[str, Ivr, PromptBook]]:
    async with line_with(ctx, MENU) as found:
        yield found


async def prompt_of(book: PromptBook, ivr: Ivr, node: str, language: str) -> Path:
    return await book.node(node, language, ivr.menu.nodes[node].prompt[language])


async def voicemail_wait(book: PromptBook, ivr: Ivr, language: str, node: str = "complaint") -> int:
    """How long a caller waits, after choosing, for the tone to end (plus a breath)."""
    prompt = await prompt_of(book, ivr, node, language)
    return ms(seconds(prompt) + seconds(await book.tone()) + 0.7)


async def a_case_to_ask_about(ctx: AppContext) -> tuple[str, str, dict[str, str]]:
    """A case made by an earlier call: its tracking number, lookup code, and the status the
    line should speak in each language."""
    desk = KernelDesk(ctx)
    earlier = Caller("earlier", "+8613700000000", "12345", "en", ("language", "main"))
    number = await desk.callback(earlier)
    code = lookup_code(ctx.secret_key, number)
    answers = {}
    for language in ("en", "zh_CN"):
        answer = await desk.status(number, code, replace(earlier, language=language))
        assert answer is not None
        answers[language] = answer
    return number, code, answers


async def test_a_french_voicemail_becomes_a_case_with_its_transcript(
    ctx: AppContext, phone: tuple[str, Ivr, PromptBook], tmp_path: Path
) -> None:
    need(french_available(), f"the French Vosk model at {FRENCH_MODEL}")
    install_french(ctx.settings.speech_models)
    target, ivr, book = phone
    voice = tmp_path / "fr-01.wav"
    voice.write_bytes(spoken("fr-01", 8000))
    ear = await Ear().open()
    steps = [
        ("pause", 1800),  # hears 普通话请按1 and part of the English choice
        ("rfc2833", "3"),
        ("pause", 900),
        ("info", "1"),  # during the French main menu
        ("pause", await voicemail_wait(book, ivr, "fr")),
        ("pcap", voice_pcap(voice, tmp_path / "voice.pcap")),
        ("pause", ms(seconds(voice) + 3.5)),  # silence ends the recording; then hang up
    ]
    try:
        run = await run_sipp(
            Scenario(steps, hangup=True, rtp_port=ear.port),
            tmp_path / "sipp",
            target,
            caller="+33612345678",
        )
    finally:
        ear.close()
    assert run.returncode == 0, run.stdout + run.errors
    heard = ear.audio()
    first = read_8k(await prompt_of(book, ivr, "language", "zh_CN"))
    assert similarity(first, heard)[0] > 0.7  # the caller heard the menu
    # the French main menu is cut short by the key; the complaint prompt after it plays whole
    assert similarity(read_8k(await prompt_of(book, ivr, "complaint", "fr")), heard)[0] > 0.7

    [case] = await cases_made(ctx, 1)
    async with ctx.db.session() as s:
        [point] = list(await s.scalars(select(ContactPoint)))
        message = await s.scalar(
            select(Interaction).where(Interaction.case_id == case.id).order_by(Interaction.id)
        )
        assert message is not None
        [recording] = list(
            await s.scalars(select(Attachment).where(Attachment.interaction_id == message.id))
        )
    assert case.first_channel == "phone" and case.kind == "complaint"
    assert point.value == "+33612345678"
    assert message.meta["menu"] == ["language", "main", "complaint"]
    assert message.meta["speech_language"] == "fr"
    kept = tmp_path / "kept.wav"
    kept.write_bytes(ctx.files.get(recording.sha256))
    assert similarity(read_8k(voice), read_8k(kept))[0] > 0.8  # what the caller said

    await asyncio.to_thread(drain_jobs, ctx.jobs)
    async with ctx.db.session() as s:
        message = await s.get(Interaction, message.id)
    assert message is not None
    transcript = message.meta["transcript"]
    assert "lampadaire" in transcript.split(), transcript
    error = word_error_rate(reference("fr-01"), transcript)
    assert error <= FRENCH_BOUND, (transcript, error)


async def test_a_mandarin_voicemail_becomes_a_chinese_transcript_on_its_case(
    ctx: AppContext, phone: tuple[str, Ivr, PromptBook], tmp_path: Path, whisper_base: Path
) -> None:
    link_whisper(ctx.settings.speech_models, whisper_base)
    city = await seed_city(ctx)
    async with ctx.db.transaction() as s:  # the city's district, as its routing rules hold it
        s.add(RoutingRule(kind="district", pattern="滨海新区", department_id=city["roads"]))
    target, ivr, book = phone
    voice = tmp_path / "zh-10.wav"
    voice.write_bytes(spoken("zh-10", 8000))
    steps = [
        ("pause", 600),
        ("rfc2833", "1"),  # 普通话
        ("pause", 900),
        ("info", "1"),  # 反映问题
        ("pause", await voicemail_wait(book, ivr, "zh_CN")),
        ("pcap", voice_pcap(voice, tmp_path / "voice.pcap")),
        ("pause", ms(seconds(voice) + 3.5)),
    ]
    run = await run_sipp(
        Scenario(steps, hangup=True), tmp_path / "sipp", target, caller="+8613712345678"
    )
    assert run.returncode == 0, run.stdout + run.errors
    [case] = await cases_made(ctx, 1)
    await asyncio.to_thread(drain_jobs, ctx.jobs)
    async with ctx.db.session() as s:
        message = await s.scalar(
            select(Interaction).where(Interaction.case_id == case.id).order_by(Interaction.id)
        )
    assert message is not None
    assert message.meta["speech_language"] == "zh_CN"
    [kept] = message.meta["transcripts"]
    assert kept["engine"] == "whisper" and kept["language"] == "zh_CN"
    assert "滨海新区" in message.text, message.text  # what the caller said, in the city's words
    assert kept["segments"]


async def test_the_status_of_a_case_is_read_back_by_keypad(
    ctx: AppContext, phone: tuple[str, Ivr, PromptBook], tmp_path: Path
) -> None:
    target, ivr, book = phone
    number, code, answers = await a_case_to_ask_about(ctx)
    assert number[-4:] in answers["en"].replace(" ", "")
    expected = await book.speak(answers["en"], "en")
    refused = await book.speak(ivr.say("en", texts.NOT_AN_OPTION), "en")

    def keys(digits: str) -> list[tuple[str, object]]:
        return [step for d in digits for step in (("info", d), ("pause", 120))]

    ear = await Ear().open()
    steps = [
        ("pause", 1200),
        ("info", "2"),  # English, during the Chinese prompt
        ("pause", 800),
        ("info", "3"),
        ("pause", 600),
        *keys("123#"),  # not a tracking number: said so, asked again
        ("pause", ms(seconds(refused)) + 500),
        *keys(number + "#"),
        ("pause", 500),
        *keys(code + "#"),
        ("pause", ms(seconds(expected) + 1.5)),
    ]
    try:
        run = await run_sipp(
            Scenario(steps, hangup=True, rtp_port=ear.port), tmp_path, target, timeout=90
        )
    finally:
        ear.close()
    assert run.returncode == 0, run.stdout + run.errors
    heard = ear.audio()
    assert similarity(read_8k(refused), heard)[0] > 0.7
    score, _ = similarity(read_8k(expected), heard)
    assert score > 0.7, score  # the status, the case's own, was spoken to the caller


async def test_twenty_callers_at_once_each_leave_their_own_case(
    ctx: AppContext, phone: tuple[str, Ivr, PromptBook], tmp_path: Path
) -> None:
    """Ten English complaints and ten messages for the director in Mandarin, all at once."""
    target, ivr, book = phone
    english, mandarin = "+8613900000001", "+8613900000002"
    voices = {
        english: speech(tmp_path / "a.wav", "The street light is broken.", pitch=30),
        mandarin: speech(tmp_path / "b.wav", "路灯坏了很久了", voice="cmn", pitch=80),
    }
    choices = {
        english: (("rfc2833", "2"), ("info", "1"), await voicemail_wait(book, ivr, "en")),
        mandarin: (
            ("rfc2833", "1"),
            ("info", "2"),
            await voicemail_wait(book, ivr, "zh_CN", "director"),
        ),
    }

    def steps(number: str) -> list[tuple[str, object]]:
        language, service, wait = choices[number]
        voice = voices[number]
        return [
            ("pause", 1200),
            language,
            ("pause", 800),
            service,
            ("pause", wait),
            ("pcap", voice_pcap(voice, voice.with_suffix(".pcap"))),
            ("pause", ms(seconds(voice) + 3.0)),
        ]

    runs = await asyncio.gather(
        *(
            run_sipp(
                Scenario(steps(number), hangup=True),
                tmp_path / number,
                target,
                calls=10,
                rate=20,
                caller=number,
                timeout=90,
            )
            for number in voices
        )
    )
    for run in runs:
        assert run.returncode == 0, run.stdout + run.errors
    cases = await cases_made(ctx, 20)
    async with ctx.db.session() as s:
        rows = (
            await s.execute(
                select(Interaction.external_id, ContactPoint.value, Attachment.sha256, Case)
                .join(Case, Case.id == Interaction.case_id)
                .join(Attachment, Attachment.interaction_id == Interaction.id)
                .join(ContactPoint, ContactPoint.citizen_id == Case.citizen_id)
            )
        ).all()
    assert len(cases) == 20 and all(c.first_channel == "phone" for c in cases)
    assert len({external for external, _, _, _ in rows}) == 20  # one case per call
    for _, number, sha, case in rows:
        if number == mandarin:  # a sealed letter, in the caller's language
            assert (case.kind, case.sealed, case.language) == ("director_mailbox", True, "zh_CN")
        else:
            assert (case.kind, case.sealed, case.language) == ("complaint", False, "en")
        said = tmp_path / f"{sha}.wav"
        said.write_bytes(ctx.files.get(sha))
        own = similarity(read_8k(voices[number]), read_8k(said))[0]
        other = next(v for k, v in voices.items() if k != number)
        assert own > 0.7 and own > similarity(read_8k(other), read_8k(said))[0], (number, own)


async def test_a_caller_on_baresip_hears_the_mandarin_menu_and_leaves_a_sealed_message(
    ctx: AppContext, phone: tuple[str, Ivr, PromptBook], tmp_path: Path
) -> None:
    """A second baresip is the caller's phone: it presses 1 (普通话) and 2 (the director) by
    RFC 2833, speaks after the tone and hangs up; what it heard is its own recording."""
    target, ivr, book = phone
    number = "+8613811112222"
    message = read_8k(speech(tmp_path / "m.wav", "我家门口的路灯坏了", voice="cmn", pitch=70))
    choose_language, choose_director = 3.3, 4.3  # seconds after the answer
    speak_at = choose_director + (await voicemail_wait(book, ivr, "zh_CN", "director")) / 1000
    voice = np.concatenate(
        [np.zeros(int(speak_at * 8000), np.float32), message, np.zeros(3 * 8000, np.float32)]
    )
    heard = await BaresipCaller(tmp_path / "caller", number).call(
        target, voice, [(choose_language, "1"), (choose_director, "2")]
    )
    # the menu, then the prompt the keys led to, each heard whole: measured 0.96 to 1.0, where
    # the closest prompt not played scores 0.72
    scores = {}
    for node in ("language", "director"):
        prompt = read_8k(await prompt_of(book, ivr, node, "zh_CN"))
        scores[node] = similarity(prompt, heard)[0]
        assert scores[node] > 0.9, node
    english = read_8k(await prompt_of(book, ivr, "director", "en"))
    assert similarity(english, heard)[0] < scores["director"]

    [case] = await cases_made(ctx, 1)
    async with ctx.db.session() as s:
        [point] = list(await s.scalars(select(ContactPoint)))
        [recording] = list(
            await s.scalars(
                select(Attachment)
                .join(Interaction, Interaction.id == Attachment.interaction_id)
                .where(Interaction.case_id == case.id)
            )
        )
    assert (case.kind, case.sealed, case.language) == ("director_mailbox", True, "zh_CN")
    assert point.value == number
    kept = tmp_path / "kept.wav"
    kept.write_bytes(ctx.files.get(recording.sha256))
    assert similarity(message, read_8k(kept))[0] > 0.8  # what the caller said


async def test_a_caller_on_baresip_hears_a_case_status_in_mandarin(
    ctx: AppContext, phone: tuple[str, Ivr, PromptBook], tmp_path: Path
) -> None:
    target, _, book = phone
    number, code, answers = await a_case_to_ask_about(ctx)
    expected = read_8k(await book.speak(answers["zh_CN"], "zh_CN"))
    english = read_8k(await book.speak(answers["en"], "en"))

    keys, at = [(3.3, "1"), (4.3, "3")], 4.9  # 普通话, then the status of a case
    for digit in f"{number}#{code}#":
        keys.append((at, digit))
        at += 0.6 if digit == "#" else 0.2
    listen = keys[-1][0] + len(expected) / 8000 + 2.0
    heard = await BaresipCaller(tmp_path / "caller").call(
        target, np.zeros(int(listen * 8000), np.float32), keys
    )
    score = similarity(expected, heard)[0]
    assert score > 0.9, score  # the case's own status, spoken in Mandarin
    assert similarity(english, heard)[0] < score
