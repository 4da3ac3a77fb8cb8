"""Tracking numbers: digits only, with a Damm check digit, readable over the phone.

``YYMMDD`` + six random digits + one check digit (13 digits, shown as ``2611 2348 1592 6``).
Random digits, not a counter, so several app processes make them without sharing a lock;
the unique index catches the rare clash and intake draws again. The Damm digit catches every
single wrong digit and every swap of two neighbouring digits, the usual slips on a keypad.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from stdnum import damm

from hotline.core.foundation import text

LENGTH = 13
_DIGITS = re.compile(r"^[0-9]{13}$")


def new_tracking_number(now: datetime) -> str:
    body = now.strftime("%y%m%d") + f"{secrets.randbelow(1_000_000):06d}"
    return f"{body}{damm.calc_check_digit(body)}"


def clean(value: str) -> str:
    """Strip the spaces and dashes people type or read out; full-width digits (a Chinese input
    method's) become ASCII ones (NFKC)."""
    return text.code(value)


def is_valid(value: str) -> bool:
    value = clean(value)
    return bool(_DIGITS.match(value)) and damm.is_valid(value)


def display(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
