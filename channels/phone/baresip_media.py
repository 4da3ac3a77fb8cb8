"""Audio in and out of one baresip call, done in Python.

Debian's baresip 1.0.0 cannot play a file into *one* call (``ausrc`` switches every call of
the user agent, and ``aufile`` hangs the call up at the end of the file) and cannot record
one call to a file of our choosing. So each call's audio source is a gstreamer pipeline
(baresip's ``gst`` module) reading a named pipe that Python writes: a WAV stream that never
ends, silence between prompts, the prompt's samples when one plays (``Feeder``). And
baresip's ``sndfile`` filter writes, for every call, what the caller sent (``-dec.wav``) and
what we sent (``-enc.wav``) to files that the engine renames per call; a recording is the
part of the ``-dec`` file between ``record`` and its end, cut in Python, which also judges
silence and the maximum length (``Recorder``). The ``-enc`` file says how far the caller has
actually heard, which times ``PlaybackDone`` and keeps the stream's lead small.

The stream is 48 kHz 16-bit mono: gstreamer's filesrc reads 4096-byte blocks, 43 ms at this
rate (256 ms at 8 kHz would be felt as delay); gstreamer resamples to the call's 8 kHz.
"""

from __future__ import annotations

import array
import errno
import fcntl
import logging
import os
import struct
import termios
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile
import soxr

log = logging.getLogger("hotline.channels.phone.baresip")

STREAM_RATE = 48000
CALL_RATE = 8000  # G.711
RATIO = STREAM_RATE // CALL_RATE
LEAD = 0.06  # seconds written ahead of the wall clock
MAX_IN_FLIGHT = 0.40  # written but not yet sent to the caller: above this, hold back (startup)
TAIL = 0.12  # after the last sample went out, before PlaybackDone (the caller's jitter buffer)
SILENCE_RMS = 300.0  # 16-bit RMS of a 20 ms frame below which the caller is silent (-40 dBFS)
CHUNK = 2048  # samples per write: 4096 bytes, atomic on a pipe


def stream_header(rate: int = STREAM_RATE) -> bytes:
    """A WAV header for a stream of unknown length (sizes 0xFFFFFFFF)."""
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF)
    )


def data_offset(path: Path) -> int:
    """Where the samples start in a WAV file libsndfile is still writing (44 for PCM)."""
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError:
        return 44
    at = head.find(b"data")
    return at + 8 if at >= 0 else 44


def frames_in(path: Path | None, offset: int) -> int:
    """16-bit mono samples written so far to a WAV file that is still growing."""
    if path is None:
        return 0
    try:
        return max(0, (os.stat(path).st_size - offset) // 2)
    except OSError:
        return 0


class PromptCache:
    """Prompts decoded and resampled to the stream rate once (a menu plays the same few)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()

    def load(self, path: Path) -> np.ndarray:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        mono = data.mean(axis=1)
        if rate != STREAM_RATE:
            mono = soxr.resample(mono, rate, STREAM_RATE)
        samples: np.ndarray = np.clip(mono * 32768.0, -32768, 32767).astype("<i2")
        self._items[key] = samples
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return samples


@dataclass
class Playing:
    path: Path
    samples: np.ndarray
    at: int = 0  # next sample to write
    end: int | None = None  # stream position after its last sample, once all written


class Feeder:
    """Writes one call's audio stream into its named pipe, paced by the clock."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.t0 = 0.0
        self.written = 0  # samples at STREAM_RATE
        self.playing: Playing | None = None
        self.finished: Playing | None = None  # all written, waiting to be heard
        self.enc_path: Path | None = None
        self.enc_offset = 44
        self.broken = False
        self._finished_at = 0.0

    async def prime(self, within: float = 5.0) -> bool:
        """Write the header and wait until gstreamer reads it (it opens the pipe three
        times while it sets up; the path may go only once it reads)."""
        import asyncio

        header = stream_header()
        deadline = time.monotonic() + within
        while True:
            try:
                os.write(self.fd, header)
                break
            except BrokenPipeError:  # between two of gstreamer's opens
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.001)
        while unread(self.fd) >= len(header):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.002)
        self.t0 = time.monotonic()
        return True

    def heard(self) -> int:
        """Stream samples sent to the caller so far (from the ``-enc`` dump)."""
        return frames_in(self.enc_path, self.enc_offset) * RATIO

    def play(self, path: Path, samples: np.ndarray) -> None:
        self.playing = Playing(path, samples)
        self.finished = None

    def stop(self) -> None:
        self.playing = None
        self.finished = None

    def tick(self, now: float) -> Playing | None:
        """Write what is due; the prompt that has now been heard to its end, if any."""
        if self.broken:
            return None
        due = int((now - self.t0 + LEAD) * STREAM_RATE) - self.written
        if self.enc_path is not None and self.written - self.heard() > MAX_IN_FLIGHT * STREAM_RATE:
            due = 0  # gstreamer started late: let it catch up rather than add delay
        if due > STREAM_RATE // 4:  # the loop stalled: skip the silence, keep the lead small
            self.t0 += (due - STREAM_RATE // 4) / STREAM_RATE
            due = STREAM_RATE // 4
        while due > 0 and not self.broken:
            count = min(due, CHUNK)
            chunk = self._next(count)
            try:
                os.write(self.fd, chunk.tobytes())
            except BlockingIOError:
                self._unnext(count)
                break
            except OSError as exc:
                if exc.errno not in (errno.EPIPE, errno.EBADF):
                    log.warning("audio stream write failed: %s", exc)
                self.broken = True
                break
            self.written += count
            due -= count
        return self._done(now)

    def _next(self, count: int) -> np.ndarray:
        playing = self.playing
        if playing is None:
            return np.zeros(count, dtype="<i2")
        part = playing.samples[playing.at : playing.at + count]
        playing.at += len(part)
        if playing.at >= len(playing.samples):
            playing.end = self.written + len(part)
            self.finished, self.playing = playing, None
            self._finished_at = time.monotonic()
        if len(part) < count:
            part = np.concatenate([part, np.zeros(count - len(part), dtype="<i2")])
        return part

    def _unnext(self, count: int) -> None:
        """A write that did not happen: give the prompt its samples back."""
        if self.finished is not None and self.finished.end == self.written + count:
            self.playing, self.finished = self.finished, None
            self.playing.end = None
        if self.playing is not None:
            self.playing.at = max(0, self.playing.at - count)

    def _done(self, now: float) -> Playing | None:
        finished = self.finished
        if finished is None or finished.end is None:
            return None
        if self.enc_path is not None:
            if self.heard() < finished.end:
                return None
            if now - self._finished_at < TAIL:
                return None
        elif now < self.t0 + finished.end / STREAM_RATE + LEAD + TAIL:
            return None
        self.finished = None
        return finished

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass
        self.broken = True


def unread(fd: int) -> int:
    """Bytes written to a pipe and not read yet."""
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return int(buf[0])


@dataclass
class Recorder:
    """One recording: the caller's samples from the ``-dec`` dump after ``start``."""

    path: Path
    dec_path: Path | None
    dec_offset: int
    max_seconds: float
    silence_seconds: float
    start: int = 0  # frame in the dump where the recording starts
    read_to: int = 0
    samples: list[np.ndarray] = field(default_factory=list)
    count: int = 0
    began: float = 0.0
    last_voice: float = 0.0
    voice_end: int = 0  # samples up to the end of the last voiced frame

    @classmethod
    def begin(
        cls, path: Path, dec_path: Path | None, max_seconds: float, silence_seconds: float
    ) -> Recorder:
        offset = data_offset(dec_path) if dec_path is not None else 44
        rec = cls(path, dec_path, offset, max_seconds, silence_seconds)
        rec.start = rec.read_to = frames_in(dec_path, offset)
        rec.began = rec.last_voice = time.monotonic()
        return rec

    def poll(self, now: float) -> str | None:
        """Take in what arrived; ``"silence"`` or ``"max_length"`` when that ends it."""
        self._read()
        if self.count >= self.max_seconds * CALL_RATE or now - self.began > self.max_seconds + 1:
            return "max_length"
        if now - self.last_voice >= self.silence_seconds:
            return "silence"
        return None

    def _read(self) -> None:
        if self.dec_path is None:
            return
        try:
            with self.dec_path.open("rb") as f:
                f.seek(self.dec_offset + self.read_to * 2)
                data = f.read()
        except OSError:
            return
        data = data[: len(data) // 2 * 2]
        if not data:
            return
        new = np.frombuffer(data, dtype="<i2")
        self.read_to += len(new)
        frame = CALL_RATE // 50
        voiced = False
        base = self.count
        for i in range(0, len(new) - frame + 1, frame):
            part = new[i : i + frame].astype(np.float64)
            if np.sqrt(np.mean(part * part)) > SILENCE_RMS:
                voiced = True
                self.voice_end = base + i + frame
        if voiced:
            self.last_voice = time.monotonic()
        self.samples.append(new)
        self.count += len(new)

    def finish(self, ended_by: str) -> float:
        """Write the WAV file; its length in seconds."""
        self._read()
        audio = np.concatenate(self.samples) if self.samples else np.zeros(0, dtype="<i2")
        audio = audio[: int(self.max_seconds * CALL_RATE)]
        if ended_by == "silence":  # keep a little of the pause after the last word
            audio = audio[: min(len(audio), self.voice_end + int(0.3 * CALL_RATE))]
            if self.voice_end == 0:
                audio = audio[:0]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(self.path), audio, CALL_RATE, subtype="PCM_16")
        return len(audio) / CALL_RATE
