"""Audio in, 16-bit mono PCM out, at the rate a speech model expects.

Recordings arrive as WAV (the phone line: 8 kHz G.711 decoded to 16-bit), Ogg/Opus (Telegram
voice notes), FLAC... libsndfile (``soundfile``) reads them; soxr resamples telephone audio to
the model's rate (16 kHz for the small Vosk models). Anything unreadable or empty is refused
with an ``AudioError`` that says why, so the job can mark the interaction and leave the
recording for a person to hear.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile
import soxr

MAX_SECONDS = 30 * 60  # a voicemail is minutes long; half an hour is already generous


class AudioError(ValueError):
    """The audio cannot be transcribed (unreadable, empty, too long)."""


def to_samples(
    audio: bytes, rate: int, max_seconds: float | None = MAX_SECONDS
) -> tuple[np.ndarray, float]:
    """Decode ``audio`` to mono float32 samples at ``rate``: (samples, seconds of audio).

    ``max_seconds=None`` takes a recording of any length (the Whisper engine splits it)."""
    if not audio:
        raise AudioError("the recording is empty (0 bytes)")
    try:
        with soundfile.SoundFile(io.BytesIO(audio)) as sound:
            if max_seconds is not None and sound.frames > max_seconds * sound.samplerate:
                raise AudioError(f"the recording is longer than {int(max_seconds) // 60} minutes")
            samples = sound.read(dtype="float32", always_2d=True)
            source_rate = int(sound.samplerate)
    except soundfile.LibsndfileError as exc:
        raise AudioError(f"the recording cannot be read as audio ({exc.error_string})") from None
    except RuntimeError as exc:  # older soundfile raises RuntimeError for unknown formats
        raise AudioError(f"the recording cannot be read as audio ({exc})") from None
    if not len(samples):
        raise AudioError("the recording holds no sound (0 samples)")
    mono = samples.mean(axis=1)
    if source_rate != rate:
        mono = soxr.resample(mono, source_rate, rate, quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32), len(samples) / source_rate


def to_pcm16(audio: bytes, rate: int) -> tuple[bytes, float]:
    """Decode ``audio`` and return (mono 16-bit little-endian PCM at ``rate``, seconds)."""
    mono, seconds = to_samples(audio, rate)
    pcm = (np.clip(mono, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    return pcm, seconds
