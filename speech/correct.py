"""The city's names put right in a Chinese transcript: a stretch that sounds like a district,
street or service name (same pinyin, allowing the nasal endings and retroflex initials many
callers merge, and at most one other syllable in a name of four or more characters) and shares
at least half its characters with it is replaced by the name. Whisper base hears 滨海新区 as
冰海新区 or 冰台新区; the city's vocabulary makes it 滨海新区 again."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u9fff]+")
_FUZZY = ((r"ing$", "in"), (r"eng$", "en"), (r"ang$", "an"), (r"^zh", "z"), (r"^ch", "c"))
_FUZZY_RE = [(re.compile(a), b) for a, b in _FUZZY] + [(re.compile(r"^sh"), "s")]


@lru_cache(maxsize=4096)
def _sound(ch: str) -> str:
    from pypinyin import lazy_pinyin

    syllable = lazy_pinyin(ch)[0]
    for pattern, repl in _FUZZY_RE:
        syllable = pattern.sub(repl, syllable)
    return syllable


def _close(window: str, name: str) -> bool:
    if window == name:
        return False
    same = sum(a == b for a, b in zip(window, name, strict=True))
    if same * 2 < len(name):
        return False
    differ = sum(_sound(a) != _sound(b) for a, b in zip(window, name, strict=True))
    return differ == 0 or (differ == 1 and len(name) >= 4)


def city_names(text: str, vocabulary: Sequence[str]) -> str:
    names = [w for w in vocabulary if len(w) >= 3 and _CJK.fullmatch(w)]
    if not names or not _CJK.search(text):
        return text
    names.sort(key=len, reverse=True)
    chars = list(text)
    for run in _CJK.finditer(text):
        start, end = run.span()
        i = start
        while i < end:
            for name in names:
                n = len(name)
                if i + n <= end and _close("".join(chars[i : i + n]), name):
                    chars[i : i + n] = list(name)
                    i += n - 1
                    break
            i += 1
    return "".join(chars)
