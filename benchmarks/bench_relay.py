"""The media relay (issue 18): how many caller⇄agent calls rtpengine bridges at once while it
records them, the delay it adds, and its CPU per call.

rtpengine 10.5 runs in userspace as ``channels/phone/stack.py`` starts it (``--table=-1``, two
threads, loopback, ``--recording-method=pcap --recording-format=raw`` into a temporary
folder: ``relay_rtpengine.py``), driven over the ng control protocol (bencode over UDP) as
the hotline's Kamailio drives it: per call an offer (the caller's side, RTP/AVP PCMU,
``record-call: yes`` and the metadata the hotline adds), an answer (the agent's side), a
delete at the end. Both sides send 20-ms PCMU packets (50/s each way) to the ports rtpengine
gave them and receive each other's (``relay_load.py``).

* ``calls_bridged_max``: the most calls held for ``--hold`` seconds (60; ``--quick`` 10) with
  recording on, every packet of every call arriving, and no gap over 100 ms in any direction
  of any call. N is ramped over ``--steps`` with short probes (``--probe`` s) up to
  ``--max-calls``; the highest clean probe is then held for the whole hold (failing that, the
  highest clean step at or under half of it). ``calls_bridged_max_bare``: the same, no
  recording (both relays probed at each step back to back); ``_ratio`` = recording / bare.
  A gap is what a listener hears when the far end sends on time: 20 ms plus the most a
  packet's delay exceeded its stream's previous packet's, so a stall of the generator (its
  senders share the relay's two cores) is not charged to the relay. The gap as received and
  the longest send gap are printed beside it; every packet must arrive all the same.
* ``call_relay_added_latency_p50_ms`` / ``_p99_ms``: one-way delay (kernel receive time −
  send time in the packet) through the recording rtpengine minus the same between the same
  kind of sockets with no relay (sender straight to receiver), both at ``--latency-calls``.
* ``relay_cpu_s_per_call_minute`` (and ``_bare``): rtpengine's utime+stime (``/proc``) from
  the first packet to the last of the hold at calls_bridged_max, per call-minute;
  ``relay_cpu_ratio`` = bare / recording (higher is better). Under load rtpengine handles more
  packets per wake-up, so this moves with what else runs; a comment adds the probes' CPU,
  recording and bare back to back at each step.
* The pcaps are read after each step: every packet relayed must be in them, none empty.

The load generator is checked alone first, at ``--max-calls`` straight between the sockets.
Two worker processes, 2-core VM: 400 calls (40,000 packets/s out and as many in) took 0.6 to
0.9 core and were clean in every run; 700 were clean with the machine otherwise quiet, 600
were not while another test run held both cores (senders 200 ms late). ``--max-calls`` is
therefore 400: a relay that holds 400 is reported as 400, not measured beyond. With the relay
on the same two cores, a ramp past it held 700 recorded calls for 10 s and broke at 800 (1 s
gaps, senders 670 ms late: the cores were full, generator and relay together).

Left out: browsers speak ICE and DTLS-SRTP to rtpengine (``UDP/TLS/RTP/SAVPF``), which costs it
encryption per packet; here both sides are plain RTP (the callers' kind of leg on both ends).
No Kamailio, no SIP: only the relay and its control protocol. The full run takes about 4.5
minutes (up to 6.5 when a 60-s hold fails and a lower N is held again); ``--quick`` 70 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import ratio  # noqa: E402
from benchmarks.relay_load import PTIME, Result, rtp_socket, run_streams  # noqa: E402
from benchmarks.relay_rtpengine import RTPENGINE, Relay  # noqa: E402

GAP_MS = 100


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Level:
    calls: int
    seconds: float
    seen: Result
    cpu: float

    @property
    def lost(self) -> int:
        return self.seen.sent - self.seen.received

    @property
    def gap_ms(self) -> float:
        """The longest gap a listener hears when the far end sends on time: 20 ms plus the most
        a packet's delay exceeded the previous packet's (the generator's own stalls left out)."""
        return PTIME * 1000 + self.seen.max_rise_ns / 1e6

    @property
    def clean(self) -> bool:
        return self.lost <= 0 and not self.seen.silent and self.gap_ms <= GAP_MS

    def say(self, what: str) -> None:
        state = "clean" if self.clean else "NOT clean"
        print(
            f"# {what} {self.calls} calls {self.seconds:.0f} s: {state}, lost"
            f" {self.lost}/{self.seen.sent}, longest gap {self.gap_ms:.1f} ms (as received"
            f" {self.seen.max_gap_ns / 1e6:.1f}, longest send gap"
            f" {self.seen.send_gap_ns / 1e6:.1f}), relay CPU {self.cpu:.2f} s, generator CPU"
            f" {self.seen.cpu_s:.2f} s, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


def level(relay: Relay | None, calls: int, seconds: float, workers: int) -> Level:
    """``calls`` calls for ``seconds``, through ``relay`` or (None) straight between sockets."""
    socks = [rtp_socket() for _ in range(2 * calls)]
    try:
        if relay is None:
            pairs = [(s, socks[k ^ 1].getsockname()) for k, s in enumerate(socks)]
            cpu, seen = run_streams(pairs, seconds, workers)
        else:
            try:
                pairs = relay.bridge(socks)
                cpu, seen = run_streams(pairs, seconds, workers, relay.cpu)
                relay.relayed += seen.received
            finally:
                relay.hang_up()
    finally:
        for s in socks:
            s.close()
    return Level(calls, seconds, seen, cpu)


def ramps(relays: list[Relay], args: argparse.Namespace) -> list[list[Level]]:
    """Each relay's clean probes: both relays probed at each step, one after the other (so
    their CPU is compared under the same conditions), each stopping at its first failure."""
    clean: list[list[Level]] = [[] for _ in relays]
    going = [True for _ in relays]
    for n in args.steps:
        for k, relay in enumerate(relays):
            if going[k]:
                probe = level(relay, n, args.probe, args.workers)
                probe.say(f"{relay.name} probe")
                going[k] = probe.clean
                clean[k] += [probe] if probe.clean else []
        if not any(going):
            break
    return clean


def hold(relay: Relay, clean: list[Level], args: argparse.Namespace) -> Level | None:
    """The highest clean probe's N held for the whole hold; failing that, the highest clean
    step at or under half of it (two tries at most: the run's time stays bounded)."""
    if not clean or args.hold <= args.probe:
        return clean[-1] if clean else None
    top = clean[-1]
    lower = [p for p in clean if p.calls <= top.calls // 2]
    for probe in [top, *lower[-1:]]:
        held = level(relay, probe.calls, args.hold, args.workers)
        held.say(f"{relay.name} hold")
        if held.clean:
            return held
    return None


def latency(lvl: Level, p: float) -> float:
    return percentile(list(lvl.seen.latency_us), p) / 1000


@dataclass
class Runs:
    alone: Level  # the generator with no relay, at --max-calls
    direct: Level  # no relay, at --latency-calls
    via: Level  # through the recording relay, at --latency-calls
    bare_via: Level  # through the bare relay, at --latency-calls
    best: Level | None  # the most calls held, recording
    best_bare: Level | None  # the same, bare
    rec: Relay  # the recording relay (stopped): its pcap counts
    paired_cpu: list[tuple[float, float]]  # (recording, bare) CPU of the probes at the same N


def measure(args: argparse.Namespace, tmp: Path) -> Runs:
    alone = level(None, args.max_calls, args.generator_seconds, args.workers)
    alone.say("generator alone (no relay)")
    if not (alone.clean and alone.seen.max_gap_ns <= GAP_MS * 1e6):
        print(f"# the load generator alone does not hold {args.max_calls} calls here:")
        print("# the figures below are bounded by it, not by the relay")
    direct = level(None, args.latency_calls, args.latency_seconds, args.workers)
    direct.say("no relay (latency)")
    with (
        Relay(tmp / "recording", recording=True) as rec,
        Relay(tmp / "bare", recording=False) as bare,
    ):
        via = level(rec, args.latency_calls, args.latency_seconds, args.workers)
        via.say("recording relay (latency)")
        bare_via = level(bare, args.latency_calls, args.latency_seconds, args.workers)
        bare_via.say("bare relay (latency)")
        probes, bare_probes = ramps([rec, bare], args)
        best, best_bare = hold(rec, probes, args), hold(bare, bare_probes, args)
    paired = {p.calls: p.cpu for p in probes}
    both = [(paired[p.calls], p.cpu) for p in bare_probes if p.calls in paired]
    return Runs(alone, direct, via, bare_via, best, best_bare, rec, both)


def report(args: argparse.Namespace, m: Runs) -> None:
    best, best_bare, rec = m.best, m.best_bare, m.rec
    most, most_bare = (best.calls if best else 0), (best_bare.calls if best_bare else 0)
    print(f"calls_bridged_max {most} calls (recording, {args.hold:.0f} s, gap ≤ {GAP_MS} ms)")
    print(f"calls_bridged_max_bare {most_bare} calls (no recording)")
    if most_bare:
        print(f"calls_bridged_max_ratio {ratio(most / most_bare)}")
    if args.max_calls in (most, most_bare):
        print(
            f"# {args.max_calls} calls is the most tested (--max-calls): the relay may hold more;"
        )
        print("# the ratio then says only that recording cost no calls up to there")
    via, direct, bare_via = m.via, m.direct, m.bare_via
    # the figure: the one-way delay the relay adds, at the median
    print(f"call_relay_added_latency_ms {latency(via, 50) - latency(direct, 50):.3f} ms")
    for p in (50, 99):
        added = latency(via, p) - latency(direct, p)
        print(
            f"call_relay_added_latency_p{p}_ms {added:.3f} ms (relay {latency(via, p):.3f}"
            f" - direct {latency(direct, p):.3f}, {args.latency_calls} calls; bare relay"
            f" {latency(bare_via, p):.3f})"
        )
    if best:
        alone = m.alone
        print(
            f"# at {best.calls} calls, recording: p50/p99 {latency(best, 50):.3f}/"
            f"{latency(best, 99):.3f} ms through the relay; no relay at {alone.calls}:"
            f" {latency(alone, 50):.3f}/{latency(alone, 99):.3f} ms"
        )
    per_minute = {}
    for name, lvl in (("", best), ("_bare", best_bare)):
        if lvl:
            per_minute[name] = lvl.cpu / (lvl.calls * lvl.seconds / 60)
            print(
                f"relay_cpu_s_per_call_minute{name} {per_minute[name]:.4f} s"
                f" ({lvl.cpu:.1f} s over {lvl.seconds:.0f} s at {lvl.calls} calls)"
            )
    if len(per_minute) == 2:
        print(f"relay_cpu_ratio {ratio(per_minute['_bare'] / per_minute[''])}")
    if m.paired_cpu:
        rec_cpu, bare_cpu = (sum(c) for c in zip(*m.paired_cpu, strict=True))
        print(
            f"# CPU of the probes at the same N ({len(m.paired_cpu)} steps, recording then bare"
            f" back to back): recording {rec_cpu:.2f} s, bare {bare_cpu:.2f} s, bare/recording"
            f" {ratio(bare_cpu / rec_cpu) if rec_cpu else '-'}"
        )
    if rec.files and not rec.empty and rec.recorded >= rec.relayed:
        print(f"# recording: {rec.files} pcap files written, {rec.bytes / 1e6:.1f} MB, none empty")
    else:
        print(f"# recording NOT all written: {rec.files} pcap files, {rec.empty} empty")
    print(f"# recorded packets {rec.recorded} of {rec.relayed} relayed (every call, every level)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hold", type=float, default=60.0, help="seconds the max is held")
    parser.add_argument("--probe", type=float, default=4.0, help="seconds of each ramp step")
    parser.add_argument("--steps", default="10,20,40,60,100,200,300")
    parser.add_argument("--max-calls", type=int, default=400, help="the ramp's last step")
    parser.add_argument("--latency-calls", type=int, default=20)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--generator-seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--skip-postgres", action="store_true", help="accepted; no database")
    args = parser.parse_args()
    if not Path(RTPENGINE).exists():
        print(f"# relay skipped: {RTPENGINE} is missing (deploy/test.sh installs rtpengine)")
        return
    steps = sorted({int(n) for n in args.steps.split(",") if int(n) < args.max_calls})
    args.steps = [*steps, args.max_calls]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp:
        measured = measure(args, Path(tmp))
    report(args, measured)
    print(f"# relay benchmark took {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
