"""A caller an agent transferred arrives on the line's transfer number, driven by engine events
alone (no audio): to a queue they hear why, their place and the wait, then the music, and wait
as any caller there (the record a leg of its own, marked ``transferred``); to an agent they
hear why and are put through to that agent's phone; to an outside number they are referred
on through the trunk (or told it failed, then the fallback); a stranger gets the menu."""

from __future__ import annotations

from pathlib import Path

from hotline.channels.phone import texts
from hotline.channels.phone.engine import CallEnded, CallStarted
from hotline.channels.phone.transfers import TRANSFER
from hotline.channels.phone.waiting import Place
from hotline.core.axd.transfers import Taken
from tests.channels.phone.test_ivr_queue import HOLD, QueueDesk, QueueLine, announcement


class TransferDesk(QueueDesk):
    def __init__(self) -> None:
        super().__init__()
        self.transfers: dict[str, Taken] = {}
        self.trunk: str | None = None

    async def take_transfer(self, number: str) -> Taken | None:
        taken = self.transfers.pop(number, None)
        if taken is not None and taken.kind == "queue":
            self.items[taken.item_id] = Place("waiting", None, 1, 40)
        elif taken is not None and taken.kind == "agent":
            self.items[taken.item_id] = Place("assigned", int(taken.target), 1, 0)
        return taken

    def outside_address(self, number: str) -> str | None:
        return f"sip:{number}@{self.trunk}" if self.trunk else None


def transfer_line(tmp: Path, kind: str, target: str) -> QueueLine:
    line = QueueLine(tmp)
    desk = TransferDesk()
    desk.transfers["+8613800138000"] = Taken(4, 104, kind, target, 7, "en")
    line.desk = line.ivr.desk = line.ivr.waiting.desk = desk
    return line


async def arrive(line: QueueLine, number: str = "+8613800138000") -> None:
    await line.ivr.on_event(CallStarted("t1", number, TRANSFER))
    await line.settle()


MOVED = f"say/en/en|{texts.TRANSFERRED}"


async def test_to_a_queue_the_caller_hears_why_and_waits_there(tmp_path: Path) -> None:
    line = transfer_line(tmp_path, "queue", "water")
    await arrive(line)
    wait_a_minute = "en|" + texts.WAIT_A_MINUTE
    assert line.heard("t1") == [MOVED, announcement(1, wait_a_minute), HOLD]
    assert line.ivr.calls["t1"].mode == "queue"
    await line.ivr.on_event(CallEnded("t1", "hangup"))  # gave up waiting
    await line.settle()
    [record] = line.desk.records
    assert (record.path, record.queue, record.item_id, record.case_id) == (
        ["transferred"],
        "water",
        4,
        104,
    )
    assert record.left_reason == "abandoned"


async def test_to_an_agent_the_caller_is_put_through_to_their_phone(tmp_path: Path) -> None:
    line = transfer_line(tmp_path, "agent", "9")
    line.desk.phones = {9: "sip:1009@10.0.0.2"}
    await arrive(line)
    assert line.heard("t1") == [MOVED]
    assert ("transfer", "t1", "sip:1009@10.0.0.2") in line.engine.commands
    await line.ivr.on_event(CallEnded("t1", "hangup"))
    await line.settle()
    [record] = line.desk.records
    assert (record.agent_id, record.put_through_to, record.path) == (
        9,
        "sip:1009@10.0.0.2",
        ["transferred"],
    )


async def test_to_an_outside_number_through_the_trunk_or_told_it_failed(tmp_path: Path) -> None:
    line = transfer_line(tmp_path, "number", "057188881234")
    line.desk.trunk = "10.0.0.9:5060"
    await arrive(line)
    assert ("transfer", "t1", "sip:057188881234@10.0.0.9:5060") in line.engine.commands

    line = transfer_line(tmp_path, "number", "057188881234")  # the trunk was taken away
    await arrive(line)
    assert line.heard("t1")[0] == f"say/en/en|{texts.TRANSFER_FAILED}"
    assert line.heard("t1")[1].startswith("node/en/")  # then the fallback: a message


async def test_a_stranger_on_the_transfer_number_gets_the_menu(tmp_path: Path) -> None:
    line = transfer_line(tmp_path, "queue", "water")
    await arrive(line, number="+8613900000000")
    assert line.heard("t1")[0].startswith("node/")
    assert line.desk.transfers  # the transfer still waits for its caller
