"""Test data: submissions as channels would make them."""

from __future__ import annotations

import itertools
from typing import Any

from hotline.core.intake.submission import Submission

_seq = itertools.count(1)

# 1x1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f5a1f50000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


def submission(**overrides: Any) -> Submission:
    data: dict[str, Any] = {
        "channel": "web",
        "external_id": f"ext-{next(_seq)}",
        "kind": "complaint",
        "text": "人民路与解放路交叉口有一个大坑，车辆经过很危险。",
        "category": "pothole",
        "contacts": [{"kind": "phone", "value": "138 0013 8000"}],
        "citizen_name": "张三",
    }
    data.update(overrides)
    return Submission.model_validate(data)
