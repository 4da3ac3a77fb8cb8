"""Peak memory of photo uploads arriving at once: the app's bounded decoding against decoding
them all at once (the raw baseline: Pillow in one thread per photo, no bound).

Each run is a fresh Python process (peak RSS only grows), which decodes ``--photos`` photos of
``--megapixels`` MP concurrently in threads, through ``clean_upload`` (app, with
``--workers`` decoding places) or through a plain Pillow open/load/save (raw). It prints the
peak resident set (``ru_maxrss``) of each, and the resident set left after the photos are done.
``upload_peak_ratio`` is raw peak / app peak (above 1: the bound saves memory). A bomb (a tiny
PNG claiming 79 MP) is also timed: refused from its header, so milliseconds, no memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from benchmarks.common import ratio

CHILD = r"""
import io, json, resource, sys, threading, time
from PIL import Image
from hotline.channels.web.uploads import clean_upload, UploadRefused
mode, n, mp, workers = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
side = int((mp * 1_000_000) ** 0.5)
buf = io.BytesIO()
Image.effect_noise((side, side), 40).convert("RGB").save(buf, format="JPEG", quality=70)
photo = buf.getvalue()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def app():
    clean_upload("p.jpg", photo, 1 << 30, max_pixels=10**9, workers=workers)
def raw():
    Image.MAX_IMAGE_PIXELS = None
    with Image.open(io.BytesIO(photo)) as im:
        im.load(); out = io.BytesIO(); im.save(out, format="JPEG", quality=85)
threads = [threading.Thread(target=app if mode == "app" else raw) for _ in range(n)]
started = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
took = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rss = int(open("/proc/self/statm").read().split()[1]) * 4
bomb = None
if mode == "app":
    from tests.channels.web.test_uploads import png_bomb
    data = png_bomb(); t0 = time.perf_counter()
    try: clean_upload("bomb.png", data, 1 << 20)
    except UploadRefused: pass
    bomb = (time.perf_counter() - t0) * 1000
print(json.dumps({"peak_kb": peak, "base_kb": base, "after_kb": rss, "s": took, "bomb_ms": bomb}))
"""


def run(mode: str, photos: int, megapixels: float, workers: int) -> dict[str, float]:
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(photos), str(megapixels), str(workers)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--megapixels", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    app = run("app", args.photos, args.megapixels, args.workers)
    raw = run("raw", args.photos, args.megapixels, args.workers)
    mb = 1024
    print(f"upload_app_peak_rss {(app['peak_kb'] - app['base_kb']) / mb:.0f} MB")
    print(f"upload_raw_peak_rss {(raw['peak_kb'] - raw['base_kb']) / mb:.0f} MB")
    print(f"upload_app_rss_after {app['after_kb'] / mb:.0f} MB")
    print(f"upload_raw_rss_after {raw['after_kb'] / mb:.0f} MB")
    print(f"upload_app_seconds {app['s']:.2f} s")
    print(f"upload_raw_seconds {raw['s']:.2f} s")
    print(f"upload_bomb_refused {app['bomb_ms']:.2f} ms")
    saved = (raw["peak_kb"] - raw["base_kb"]) / max(1, app["peak_kb"] - app["base_kb"])
    print(f"upload_peak_ratio {ratio(saved)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
