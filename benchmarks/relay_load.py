"""The load generator of ``bench_relay.py``: plain 20-ms PCMU RTP both ways of many calls.

Each socket is one side of a call: it sends 50 packets/s to where it was told and receives
its peer's. A stream's packet carries RTP (version 2, payload type 0, seq +1, timestamp +160)
and, in the first 8 bytes of its 160-byte payload, the send time (``time.time_ns()``). The
receiver takes the kernel's receive time (``SO_TIMESTAMPNS``, the same clock), so neither the
receiver's own scheduling nor its Python work is counted in a latency or a gap. Streams are
spread evenly over the 20 ms, each worker process sends what is due every ``SLICE`` seconds
(2 ms late at most on free cores; a latency counts from the real send time, and the longest
send gap is reported) and drains what arrived.
"""

from __future__ import annotations

import array
import gc
import multiprocessing
import multiprocessing.connection
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

PTIME = 0.02  # 20 ms of PCMU: 160 bytes, 50 packets a second
SLICE = 0.002
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python 3.11 does not name it
TAIL = b"\xff" * 152  # μ-law silence after the 8-byte send time
HEADER = struct.Struct("!BBHIIq")  # RTP header, then the send time in ns
STAMP = struct.Struct("qq")  # struct timespec


def rtp_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.setblocking(False)
    return s


@dataclass
class Result:
    """What one run of streams saw: packets sent and received, the longest silence between two
    packets of one stream (ns), one-way latencies (μs) of every packet received."""

    sent: int = 0
    received: int = 0
    max_gap_ns: int = 0
    max_rise_ns: int = 0  # the most one packet's latency exceeded its stream's previous one's
    silent: int = 0  # receiving sockets that got nothing
    send_gap_ns: int = 0  # the longest a sender went between two packets of one stream
    cpu_s: float = 0.0  # the generator's own CPU seconds (all its workers)
    latency_us: array.array = field(default_factory=lambda: array.array("q"))

    def add(self, other: Result) -> None:
        self.sent += other.sent
        self.received += other.received
        self.max_gap_ns = max(self.max_gap_ns, other.max_gap_ns)
        self.silent += other.silent
        self.max_rise_ns = max(self.max_rise_ns, other.max_rise_ns)
        self.send_gap_ns = max(self.send_gap_ns, other.send_gap_ns)
        self.cpu_s += other.cpu_s
        self.latency_us.extend(other.latency_us)


def _stream(
    streams: list[tuple[socket.socket, tuple[str, int], float]],
    start: float,
    seconds: float,
    out: multiprocessing.connection.Connection,
) -> None:
    """One worker: ``streams`` (socket, where to send, phase in the 20 ms) from ``start``
    (monotonic) for ``seconds``; then 0.3 s more to receive the last packets."""
    gc.disable()
    cpu = time.process_time()
    count = len(streams)
    order = sorted(range(count), key=lambda i: streams[i][2])
    phases = [streams[i][2] for i in order]
    socks = [streams[i][0] for i in order]
    dests = [streams[i][1] for i in order]
    ssrcs = [int.from_bytes(os.urandom(4), "big") for _ in order]
    by_fd = {s.fileno(): n for n, s in enumerate(socks)}
    poll = select.epoll()
    for fd in by_fd:
        poll.register(fd, select.EPOLLIN)
    ticks = max(1, round(seconds / PTIME))
    got = [0] * count
    last = [0] * count
    last_latency = [0] * count
    sent_at = [0] * count
    latency = array.array("q")
    max_gap = max_rise = send_gap = 0
    tick = pos = 0
    stop = start + ticks * PTIME + 0.3
    pack, unpack, stamp = HEADER.pack, HEADER.unpack_from, STAMP.unpack_from
    clock, wall = time.monotonic, time.time_ns
    cmsg_space = socket.CMSG_SPACE(STAMP.size)
    while True:
        now = clock()
        while tick < ticks:
            due = start + tick * PTIME + phases[pos]
            if due > now:
                break
            seq = tick & 0xFFFF
            at = wall()
            if tick:
                send_gap = max(send_gap, at - sent_at[pos])
            sent_at[pos] = at
            packet = pack(0x80, 0, seq, (tick * 160) & 0xFFFFFFFF, ssrcs[pos], at) + TAIL
            try:
                socks[pos].sendto(packet, dests[pos])
            except BlockingIOError:
                pass  # counted as lost at the receiver: the generator's own failure shows
            pos += 1
            if pos == count:
                pos, tick = 0, tick + 1
        if tick >= ticks and now >= stop:
            break
        wait = SLICE if tick < ticks else stop - now
        for fd, _ in poll.poll(max(wait, 0.0)):
            n = by_fd[fd]
            sock = socks[n]
            while True:
                try:
                    data, anc, _, _ = sock.recvmsg(256, cmsg_space)
                except BlockingIOError:
                    break
                if len(data) < HEADER.size or data[1] & 0x7F != 0:
                    continue  # not our RTP (an RTCP packet, say)
                arrived = 0
                for level, kind, value in anc:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        secs, nanos = stamp(value)
                        arrived = secs * 1_000_000_000 + nanos
                arrived = arrived or wall()
                took = arrived - unpack(data)[5]
                latency.append(took // 1000)
                if last[n]:
                    max_gap = max(max_gap, arrived - last[n])
                    max_rise = max(max_rise, took - last_latency[n])
                last[n], last_latency[n] = arrived, took
                got[n] += 1
    poll.close()
    result = Result(
        sent=ticks * count,
        received=sum(got),
        max_gap_ns=max_gap,
        silent=sum(1 for g in got if g == 0),
        max_rise_ns=max_rise,
        send_gap_ns=send_gap,
        cpu_s=time.process_time() - cpu,
        latency_us=latency,
    )
    out.send(result)
    out.close()


def run_streams(
    pairs: list[tuple[socket.socket, tuple[str, int]]],
    seconds: float,
    workers: int,
    meter: Callable[[], float] = lambda: 0.0,
) -> tuple[float, Result]:
    """Every (socket, destination) sending and receiving for ``seconds`` in ``workers`` forked
    processes (the sockets are inherited). Returns (how much ``meter`` grew from the first
    packet to the last, what the streams saw)."""
    ctx = multiprocessing.get_context("fork")
    count = len(pairs)
    start = time.monotonic() + 0.2 + 0.02 * workers  # time for the forks
    procs, readers = [], []
    for w in range(min(workers, count)):
        mine = [(s, d, k / count * PTIME) for k, (s, d) in enumerate(pairs) if k % workers == w]
        reader, writer = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_stream, args=(mine, start, seconds, writer), daemon=True)
        proc.start()
        writer.close()
        procs.append(proc)
        readers.append(reader)
    time.sleep(max(0.0, start - time.monotonic()))
    first = meter()
    time.sleep(max(0.0, start + seconds - time.monotonic()))
    grew = meter() - first
    total = Result()
    for reader in readers:
        if reader.poll(seconds + 30):
            total.add(reader.recv())
        else:
            total.silent += 1  # a worker that never answered
    for proc in procs:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return grew, total
