"""Keeps ``case_texts`` (what case search reads) in step with the cases: after every flush that
added or changed an interaction's text or a case's subject, the affected cases' rows are rebuilt
on the same connection, so they commit or roll back with the change itself.

Listens on every ORM ``Session`` (the async sessions run one underneath); bulk ``UPDATE``
statements bypass it, and the kernel changes those columns only through objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hotline.core.storage.models.cases import Case, Interaction
from hotline.core.storage.models.search import CaseText


def body_of(subject: str, texts: Iterable[str]) -> str:
    return "\n".join(t for t in [subject, *texts] if t)


def is_gram(word: str) -> bool:
    """Whether ``word`` (lower-cased) is looked up in ``grams``: 1 or 2 letters or digits."""
    return 0 < len(word) <= 2 and word.isalnum()


def grams_of(body: str) -> str:
    """Every distinct character and pair of neighbouring characters of ``body`` (lower-cased,
    letters and digits only), space-separated: what 1- and 2-character words are found by."""
    low = body.lower()
    found: set[str] = set()
    for i, char in enumerate(low):
        if char.isalnum():
            found.add(char)
            pair = low[i : i + 2]
            if len(pair) == 2 and pair.isalnum():
                found.add(pair)
    return " ".join(sorted(found))


def rebuild(connection: Connection, case_ids: Iterable[int], *, with_grams: bool = True) -> None:
    """Write the search rows of these cases from what is stored now (used by the backfill too;
    migration 0016 writes them without ``grams``, which came in 0018)."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    subjects = dict(connection.execute(select(Case.id, Case.subject).where(Case.id.in_(ids))).all())
    texts: dict[int, list[str]] = {i: [] for i in subjects}
    for case_id, text in connection.execute(
        select(Interaction.case_id, Interaction.text)
        .where(Interaction.case_id.in_(ids))
        .order_by(Interaction.id)
    ):
        texts[case_id].append(text or "")
    connection.execute(delete(CaseText).where(CaseText.case_id.in_(ids)))
    rows: list[dict[str, object]] = [
        {"case_id": i, "body": body_of(subjects[i] or "", texts[i])} for i in subjects
    ]
    if with_grams:
        for row in rows:
            row["grams"] = grams_of(str(row["body"]))
    if rows:
        connection.execute(insert(CaseText), rows)


def _changed(obj: Any, attribute: str) -> bool:
    return bool(inspect(obj).attrs[attribute].history.has_changes())


def _affected(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Interaction) and obj.case_id is not None:
            ids.add(obj.case_id)
        elif isinstance(obj, Case) and obj.id is not None:
            ids.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Interaction) and _changed(obj, "text"):
            ids.add(obj.case_id)
        elif isinstance(obj, Case) and _changed(obj, "subject"):
            ids.add(obj.id)
    return ids


@event.listens_for(Session, "after_flush")
def _keep_in_step(session: Session, _context: Any) -> None:
    ids = _affected(session)
    if ids:
        rebuild(session.connection(), ids)
