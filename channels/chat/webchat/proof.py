"""A hashcash-style proof of work for beginning a chat, asked of an address that has begun a
few already (``HOTLINE_CHAT_STARTS_FREE`` an hour).

The challenge is ``issued.random.bits.mac``: a time, 16 random hex digits, the difficulty and
an HMAC of the three under the site's secret key, so the server keeps nothing until it is
spent. The browser (``static/pow.js``, with the vendored js-sha256) finds a ``nonce`` such that
SHA-256 of ``challenge:nonce`` begins with ``bits`` zero bits: about 2**bits hashes, a second
or two at the default 18 bits, and the server checks it with one hash. A challenge is good for
ten minutes and once (``core.shell.edge_counts.spend_once``). Without JavaScript the page says to
wait: the free starts come back within the hour.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

VALID_SECONDS = 600


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), f"chat-pow:{body}".encode(), hashlib.sha256).hexdigest()[:24]


def new_challenge(secret: str, bits: int, now: float | None = None) -> str:
    body = f"{int(now if now is not None else time.time())}.{secrets.token_hex(8)}.{bits}"
    return f"{body}.{_mac(secret, body)}"


def leading_zero_bits(digest: bytes) -> int:
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def solve(challenge: str, bits: int) -> str:
    """What the browser does (for tests and the benchmark)."""
    nonce = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) < bits:
        nonce += 1
    return str(nonce)


def check(
    secret: str, challenge: str, nonce: str, bits: int, now: float | None = None
) -> str | None:
    """The challenge's random part (to spend once) when ``nonce`` proves the work, else None."""
    parts = challenge.split(".")
    if len(parts) != 4 or not nonce.isdigit() or len(nonce) > 20:
        return None
    issued, random, claimed, mac = parts
    body = f"{issued}.{random}.{claimed}"
    if not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        return None
    if not issued.isdigit() or not claimed.isdigit() or int(claimed) < bits:
        return None
    age = (now if now is not None else time.time()) - int(issued)
    if not 0 <= age <= VALID_SECONDS:
        return None
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    return random if leading_zero_bits(digest) >= int(claimed) else None
