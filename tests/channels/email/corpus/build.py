"""Writes the e-mail corpus: one message per shape real mail software sends (written for this
project; the shapes were learnt from public mail test suites, no file is copied), and
``expected.json``: what each must become and the exact text a person must read.

Run ``python -m tests.channels.email.corpus.build`` after changing it; the files are committed.
"""

from __future__ import annotations

import json

from tests.channels.email.corpus import (  # noqa: F401  (each adds its messages)
    automatic_messages,
    charset_messages,
    structure_messages,
)
from tests.channels.email.corpus.make import HERE, corpus, expected


def main() -> None:
    for old in HERE.glob("*.eml"):
        old.unlink()
    for name, raw in corpus.items():
        (HERE / name).write_bytes(raw)
    (HERE / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8"
    )
    print(f"{len(corpus)} messages")


if __name__ == "__main__":
    main()
