"""Languages: gettext catalogs for zh_CN and en (Babel), chosen by the user, else Accept-Language.

The ``.po`` files are the source; they are compiled in memory at start, so there is no build step
and no binary file in the repository.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from hotline.core.foundation.settings import SUPPORTED_LANGUAGES

LOCALE_DIR = Path(__file__).parents[1] / "locale"


@dataclass
class Catalogs:
    by_language: dict[str, NullTranslations]

    def get(self, language: str) -> NullTranslations:
        return self.by_language.get(language) or NullTranslations()

    def gettext(self, language: str, message: str) -> str:
        return self.get(language).gettext(message)


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> Catalogs:
    found: dict[str, NullTranslations] = {}
    for language in SUPPORTED_LANGUAGES:
        po = locale_dir / language / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        found[language] = Translations(buf)
    return Catalogs(found)


def parse_accept_language(header: str) -> list[str]:
    """Languages in the order the browser prefers them (``q`` weights honoured)."""
    weighted = []
    for index, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        if not tag or tag == "*":
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weighted.append((-q, index, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(weighted) if not tag.startswith("-")]


# zh, zh_Hans, zh_CN and zh_SG all read Simplified Chinese.
ALIASES = {"zh": "zh_CN", "zh_Hans": "zh_CN", "zh_Hans_CN": "zh_CN", "zh_SG": "zh_CN"}


def choose_language(chosen: str | None, accept_language: str | None, default: str) -> str:
    """The user's explicit choice wins (spelt as a browser would too: zh, zh-CN, en-US); then
    the browser's preference; then the site default."""
    for preferred in (
        [chosen.replace("-", "_")] if chosen else [],
        parse_accept_language(accept_language) if accept_language else [],
    ):
        found = negotiate_locale(
            [ALIASES.get(tag, tag) for tag in preferred], list(SUPPORTED_LANGUAGES), sep="_"
        )
        if found:
            return str(found)
    return default
