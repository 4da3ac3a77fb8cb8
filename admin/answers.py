"""The citizen's answers to the service's own questions (the extra fields a service asks on the
portal and over Open311), as staff read them: each question and answer in the reader's language,
choices by their names, in the order the service asks them."""

from __future__ import annotations

from typing import Any

from hotline.core.storage.models.cases import Interaction
from hotline.core.storage.models.reference import ServiceCategory


def _words(item: dict[str, Any], stem: str, language: str) -> str:
    zh, en = item.get(f"{stem}_zh"), item.get(f"{stem}_en")
    first, second = (zh, en) if language.startswith("zh") else (en, zh)
    return str(first or second or item.get(stem) or item.get("code") or item.get("key") or "")


def service_answers(
    service: ServiceCategory | None, messages: list[Interaction], language: str
) -> list[tuple[str, str]]:
    """(question, answer) for every question a message of this case answered."""
    given: dict[str, Any] = {}
    for message in messages:
        meta = message.meta if isinstance(message.meta, dict) else {}
        answers = meta.get("attributes")
        if isinstance(answers, dict):
            for code, value in answers.items():
                given.setdefault(str(code), value)
    if not given:
        return []
    questions = list(service.attributes or []) if service is not None else []
    known = {str(q.get("code")): q for q in questions if isinstance(q, dict)}
    order = [code for code in known if code in given] + [c for c in given if c not in known]
    rows = []
    for code in order:
        question = known.get(code, {"code": code})
        names = {str(v.get("key")): _words(v, "name", language) for v in question.get("values", [])}
        values = given[code] if isinstance(given[code], list) else [given[code]]
        answer = (
            "、".join(names.get(str(v), str(v)) for v in values)
            if language.startswith("zh")
            else ", ".join(names.get(str(v), str(v)) for v in values)
        )
        rows.append((_words(question, "description", language), answer))
    return rows
