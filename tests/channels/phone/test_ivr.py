"""The IVR state machine driven by engine events alone (no audio): language choice, menus,
voicemail, status by keypad, call back, wrong keys and silence, closed hours, hang-ups at any
point. A fake engine records the commands; a fake desk records what reached the kernel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hotline.channels.phone import texts
from hotline.channels.phone.engine import (
    CallEnded,
    CallStarted,
    Digit,
    PlaybackDone,
    RecordingReady,
)
from hotline.channels.phone.ivr import Caller, Ivr
from hotline.channels.phone.menu import BUILT_IN, MenuError, parse_menu

NUMBER = "2612021234567"


class FakeEngine:
    def __init__(self) -> None:
        self.commands: list[tuple[str, ...]] = []
        self.ivr: Ivr | None = None

    async def start(self, on_event: Any) -> None: ...

    async def stop(self) -> None: ...

    async def answer(self, call_id: str) -> None:
        self.commands.append(("answer", call_id))

    async def play(self, call_id: str, path: Path) -> None:
        self.commands.append(("play", call_id, str(path)))
        # the prompt plays at once: its end arrives as the engine would report it
        loop = asyncio.get_running_loop()
        loop.call_soon(lambda: asyncio.ensure_future(self.done(call_id, path)))

    async def done(self, call_id: str, path: Path) -> None:
        last_play = [c for c in self.commands if c[0] in ("play", "stop_playback")][-1]
        if last_play == ("play", call_id, str(path)) and self.ivr is not None:
            await self.ivr.on_event(PlaybackDone(call_id, path))

    async def stop_playback(self, call_id: str) -> None:
        self.commands.append(("stop_playback", call_id))

    async def record(
        self, call_id: str, path: Path, *, max_seconds: float, silence_seconds: float
    ) -> None:
        self.commands.append(("record", call_id, str(path)))

    async def stop_record(self, call_id: str) -> None:
        self.commands.append(("stop_record", call_id))

    refuse_transfer = False  # the caller's side refuses a REFER

    async def transfer(self, call_id: str, target: str) -> bool:
        self.commands.append(("transfer", call_id, target))
        return not self.refuse_transfer

    async def hangup(self, call_id: str) -> None:
        self.commands.append(("hangup", call_id))


class FakePrompts:
    """A prompt's 'audio' is a path naming what would be heard."""

    async def node(self, name: str, language: str, text: str) -> Path:
        return Path(f"node/{language}/{name}")

    async def speak(self, text: str, language: str) -> Path:
        return Path(f"say/{language}/{text}")

    async def tone(self) -> Path:
        return Path("tone")


class FakeDesk:
    def __init__(self, open_now: bool = True) -> None:
        self.open_now = open_now
        self.voicemails: list[tuple[Caller, str, Path, float]] = []
        self.callbacks: list[Caller] = []
        self.questions: list[tuple[str, str]] = []

    async def is_open(self) -> bool:
        return self.open_now

    async def voicemail(
        self, caller: Caller, kind: str, recording: Path, seconds: float
    ) -> tuple[str, str]:
        self.voicemails.append((caller, kind, recording, seconds))
        return NUMBER, "654321"

    async def callback(self, caller: Caller) -> str:
        self.callbacks.append(caller)
        return NUMBER

    async def status(self, number: str, code: str, caller: Caller) -> str | None:
        self.questions.append((number, code))
        return "Case found: dispatched." if code == "654321" else None


def say(language: str, message: str) -> str:
    return f"{language}|{message}"


class Line:
    def __init__(self, tmp: Path, menu_text: str | None = None, open_now: bool = True) -> None:
        text = menu_text or BUILT_IN.read_text(encoding="utf-8")
        self.menu = parse_menu(text.replace("timeout_seconds = 6", "timeout_seconds = 0.05"))
        self.engine = FakeEngine()
        self.desk = FakeDesk(open_now)
        self.ivr = Ivr(self.engine, self.menu, FakePrompts(), self.desk, say, tmp / "rec")
        self.engine.ivr = self.ivr

    async def settle(self) -> None:
        for _ in range(30):
            await asyncio.sleep(0)

    async def call(self, caller: str = "+8613800138000", call_id: str = "c1") -> None:
        await self.ivr.on_event(CallStarted(call_id, caller, "12345"))
        await self.settle()

    async def press(self, keys: str, call_id: str = "c1", method: str = "rfc2833") -> None:
        for key in keys:
            await self.ivr.on_event(Digit(call_id, key, method))
            await self.settle()

    def heard(self, call_id: str = "c1") -> list[str]:
        return [c[2] for c in self.engine.commands if c[0] == "play" and c[1] == call_id]

    def did(self, name: str) -> bool:
        return any(c[0] == name for c in self.engine.commands)


async def test_a_caller_chooses_mandarin_and_leaves_a_complaint(tmp_path: Path) -> None:
    line = Line(tmp_path)
    await line.call()
    assert line.engine.commands[0] == ("answer", "c1")
    assert line.heard()[:2] == ["node/zh_CN/language", "node/en/language"]  # both languages
    await line.press("1")
    assert line.heard()[-1] == "node/zh_CN/main"
    await line.press("1")
    assert line.heard()[-2:] == ["node/zh_CN/complaint", "tone"]
    assert line.did("record")
    recording = tmp_path / "rec" / "c1.wav"
    await line.ivr.on_event(RecordingReady("c1", recording, 6.5, "digit"))
    await line.settle()
    [(caller, kind, path, seconds)] = line.desk.voicemails
    assert (caller.number, caller.language, kind, path, seconds) == (
        "+8613800138000",
        "zh_CN",
        "complaint",
        recording,
        6.5,
    )
    assert caller.path == ("language", "main", "complaint")
    spoken = line.heard()[-1]
    assert spoken.startswith("say/zh_CN/zh_CN|" + texts.RECEIVED[:20])
    assert line.engine.commands[-1] == ("hangup", "c1")


async def test_english_director_message_ends_on_the_hash_key(tmp_path: Path) -> None:
    line = Line(tmp_path)
    await line.call()
    await line.press("2")
    assert line.heard()[-1] == "node/en/main"
    await line.press("2")
    await line.press("5")  # other keys while recording are ignored
    assert not line.did("stop_record")
    await line.press("#", method="info")
    assert line.did("stop_record")
    await line.ivr.on_event(RecordingReady("c1", tmp_path / "r.wav", 3.0, "stopped"))
    await line.settle()
    assert line.desk.voicemails[0][1] == "director_mailbox"
    assert line.desk.voicemails[0][0].language == "en"


async def test_the_status_of_a_case_by_keypad(tmp_path: Path) -> None:
    line = Line(tmp_path)
    await line.call()
    await line.press("13")
    await line.press(NUMBER + "#")
    assert line.heard()[-1] == f"say/zh_CN/zh_CN|{texts.ENTER_CODE}"
    await line.press("000000#")  # a wrong code: told so, asked again
    assert line.heard()[-2] == f"say/zh_CN/zh_CN|{texts.NO_MATCH}"
    await line.press(NUMBER + "#654321#")
    assert line.desk.questions == [(NUMBER, "000000"), (NUMBER, "654321")]
    assert "say/zh_CN/Case found: dispatched." in line.heard()
    assert line.heard()[-1] == "node/zh_CN/main"  # back to the menu
    await line.press("3")
    await line.press("12345#")  # digits that are not a tracking number: asked again, no lookup
    assert line.heard()[-2] == f"say/zh_CN/zh_CN|{texts.NOT_AN_OPTION}"
    assert len(line.desk.questions) == 2


async def test_wrong_keys_then_silence_end_in_a_voicemail(tmp_path: Path) -> None:
    line = Line(tmp_path)
    await line.call()
    await line.press("1")
    await line.press("9")
    assert line.heard()[-2:] == [f"say/zh_CN/zh_CN|{texts.NOT_AN_OPTION}", "node/zh_CN/main"]
    await asyncio.sleep(0.3)  # the caller says nothing: repeated, then the fallback
    await line.settle()
    assert line.heard()[-2:] == ["node/zh_CN/complaint", "tone"]
    assert line.did("record")


async def test_a_key_during_a_prompt_stops_it(tmp_path: Path) -> None:
    line = Line(tmp_path)
    line.engine.play = _no_end(line.engine)  # type: ignore[method-assign]
    await line.call()
    await line.press("2")
    assert ("stop_playback", "c1") in line.engine.commands
    assert line.heard()[-1] == "node/en/main"


def _no_end(engine: FakeEngine) -> Any:
    async def play(call_id: str, path: Path) -> None:  # a long prompt that is still playing
        engine.commands.append(("play", call_id, str(path)))

    return play


async def test_closed_hours_take_a_message(tmp_path: Path) -> None:
    line = Line(tmp_path, open_now=False)
    await line.call()
    assert line.heard()[:3] == ["node/zh_CN/closed", "node/en/closed", "tone"]
    assert line.did("record")


async def test_a_call_back_needs_a_number(tmp_path: Path) -> None:
    line = Line(tmp_path)
    await line.call(caller="")
    await line.press("15")
    assert line.heard()[-3] == f"say/zh_CN/zh_CN|{texts.WITHHELD}"
    assert line.heard()[-2:] == ["node/zh_CN/complaint", "tone"]  # a message instead
    assert line.desk.callbacks == []
    other = Line(tmp_path)
    await other.call()
    await other.press("10")  # "speak to an agent" offers a call back for now
    assert [c.number for c in other.desk.callbacks] == ["+8613800138000"]
    assert other.engine.commands[-1] == ("hangup", "c1")


async def test_hang_ups_mid_prompt_mid_digits_and_mid_recording(tmp_path: Path) -> None:
    line = Line(tmp_path)
    await line.call(call_id="a")
    await line.ivr.on_event(CallEnded("a", "hangup"))
    await line.press("1", call_id="a")  # late events of a gone call are ignored
    assert "a" not in line.ivr.calls and line.desk.voicemails == []

    await line.call(call_id="b")
    await line.press("13", call_id="b")
    await line.press("2612", call_id="b")
    await line.ivr.on_event(CallEnded("b", "hangup"))
    await asyncio.sleep(0.2)
    assert "b" not in line.ivr.calls and line.desk.questions == []

    await line.call(call_id="c")
    await line.press("11", call_id="c")
    await line.ivr.on_event(CallEnded("c", "hangup"))  # spoke, then hung up instead of #
    await line.ivr.on_event(RecordingReady("c", tmp_path / "c.wav", 4.0, "hangup"))
    await line.settle()
    assert len(line.desk.voicemails) == 1  # the message is kept
    assert ("hangup", "c") not in line.engine.commands  # nothing played to a gone caller
    assert "c" not in line.ivr.calls


async def test_a_zero_length_recording_makes_no_case(tmp_path: Path) -> None:
    line = Line(tmp_path)
    await line.call()
    await line.press("11")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    await line.ivr.on_event(RecordingReady("c1", empty, 0.0, "silence"))
    await line.settle()
    assert line.desk.voicemails == [] and not empty.exists()
    assert line.heard()[-1] == f"say/zh_CN/zh_CN|{texts.NO_MESSAGE}"
    assert line.engine.commands[-1] == ("hangup", "c1")


def test_the_built_in_menu_is_valid_and_broken_menus_are_refused() -> None:
    menu = parse_menu(BUILT_IN.read_text(encoding="utf-8"))
    assert menu.nodes["main"].options["3"] == "status"
    broken = BUILT_IN.read_text(encoding="utf-8").replace('"5" = "callback"', '"5" = "nowhere"')
    with pytest.raises(MenuError) as refused:
        parse_menu(broken.replace('prompt.en = "For English, press 2."', ""))
    problems = "\n".join(refused.value.problems)
    assert "unknown 'nowhere'" in problems and "nodes.language: no prompt in en" in problems
    with pytest.raises(MenuError, match="not TOML"):
        parse_menu("start = ")


FRENCH_MENU = """
start = "language"
languages = ["zh_CN", "en", "fr"]
fallback = "complaint"
closed = "complaint"
hours = "always"
timeout_seconds = 6
[nodes.language]
prompt = { zh_CN = "普通话请按1", en = "English press 2", fr = "Français, tapez 3" }
options = { "1" = "zh_CN:complaint", "2" = "en:complaint", "3" = "fr:complaint" }
[nodes.complaint]
prompt = { zh_CN = "请留言", en = "Leave a message", fr = "Laissez un message" }
action = "voicemail"
"""


async def test_a_site_may_add_a_language_to_the_menu(tmp_path: Path) -> None:
    line = Line(tmp_path, menu_text=FRENCH_MENU)
    await line.call()
    assert line.heard()[:3] == ["node/zh_CN/language", "node/en/language", "node/fr/language"]
    await line.press("3")
    assert line.heard()[-2:] == ["node/fr/complaint", "tone"]
    await line.ivr.on_event(RecordingReady("c1", tmp_path / "fr.wav", 4.0, "digit"))
    await line.settle()
    assert line.desk.voicemails[0][0].language == "fr"
    with pytest.raises(MenuError, match="no prompt in fr"):
        parse_menu(FRENCH_MENU.replace(', fr = "Laissez un message"', ""))
