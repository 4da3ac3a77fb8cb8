"""The narrow interface between the phone channel and a SIP/RTP engine.

An engine (baresip built in; an Asterisk ARI or FreeSWITCH adapter could be another) answers
calls and moves audio; it knows nothing of menus or cases. It reports what happens on a call as
``CallEvent`` values to the ``on_event`` callback given to ``start``, and obeys commands. The
IVR (``ivr``) is driven by those events only, so it is tested without audio.

Events: a call started (caller and called number), a digit (and how it came: RFC 2833 or
SIP INFO), a prompt finished playing, a recording is ready (its WAV file), the call ended.
Commands: answer, play a WAV file, stop playing, record to a WAV file (ends on a digit,
silence, or the maximum length), stop recording, transfer, hang up.

Audio files are WAV (16-bit PCM, mono); recordings are made at the call's rate (8 kHz for
G.711), prompts are played as given (the engine resamples).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class CallStarted:
    call_id: str
    caller: str  # the caller's number as the network gave it; "" when withheld
    called: str  # the number dialled (which hotline line)


@dataclass(frozen=True)
class Digit:
    call_id: str
    digit: str  # 0-9, *, #, A-D
    method: str  # "rfc2833" or "info"


@dataclass(frozen=True)
class PlaybackDone:
    call_id: str
    path: Path


@dataclass(frozen=True)
class RecordingReady:
    call_id: str
    path: Path
    seconds: float
    ended_by: str  # "digit", "silence", "max_length", "hangup", "stopped"


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    reason: str  # "hangup" (the caller), "local" (we hung up), "error"


CallEvent = CallStarted | Digit | PlaybackDone | RecordingReady | CallEnded
OnEvent = Callable[[CallEvent], Awaitable[None]]


class Engine(Protocol):
    """What the phone channel needs from a SIP/RTP engine. Every command is for one call and
    fails quietly (logs) when the call is gone: callers hang up at any moment."""

    async def start(self, on_event: OnEvent) -> None:
        """Start taking calls; report every event to ``on_event``."""

    async def stop(self) -> None:
        """Hang up what is up and stop."""

    async def answer(self, call_id: str) -> None: ...

    async def play(self, call_id: str, path: Path) -> None:
        """Play a WAV file to the caller; ``PlaybackDone`` follows when it ends (not when
        stopped)."""

    async def stop_playback(self, call_id: str) -> None: ...

    async def record(
        self, call_id: str, path: Path, *, max_seconds: float, silence_seconds: float
    ) -> None:
        """Record the caller into ``path`` until ``stop_record``, ``silence_seconds`` of
        silence, ``max_seconds``, or the end of the call; then ``RecordingReady``."""

    async def stop_record(self, call_id: str) -> None: ...

    async def transfer(self, call_id: str, target: str) -> bool:
        """Ask the caller's side to call ``target`` instead (a blind transfer: SIP REFER).
        False when it was refused or the call is gone."""

    async def hangup(self, call_id: str) -> None: ...

    async def wait_lost(self) -> None:
        """Return when the engine failed on its own (its calls have ended with ``error``); the
        line then stops it and starts another."""
