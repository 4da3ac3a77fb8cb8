"""The console's case lists that can be exported, each as a ``Source``: the same filters as the
list's page (shared with it where the page has them in a function), the whole result rather than
one page, and who may export it.

Sealed letters to the director are left out of every list but the director's office's own
mailbox, whatever the list's filters say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from sqlalchemy import ColumnElement

from hotline.admin.case_search import FILTERS, filters_of
from hotline.admin.department import DUE_SOON, bucket_conditions
from hotline.admin.desk import LISTS as DESK_LISTS
from hotline.admin.desk import desk_conditions
from hotline.core.cases.search import term_condition, terms_of
from hotline.core.people.permissions import Permission
from hotline.core.reference.labels import N_
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.search import CaseText
from hotline.core.storage.models.workflow import Assignment
from hotline.core.workflow.common import ACTIVE


class NotExportable(Exception):
    """No such list, or the list needs what the user's account does not have."""


@dataclass(frozen=True)
class Source:
    """What one export reads: the cases (or a department's assignments) matching
    ``conditions``, walked by ``key`` (a unique, indexed column) in its order."""

    name: str
    conditions: list[ColumnElement[bool]]
    key: Any = field(default_factory=lambda: Case.id)
    ascending: bool = False
    via_assignment: bool = False  # the rows are a department's assignments (one per case)
    joins: list[tuple[Any, Any]] = field(default_factory=list)
    sealed: bool = False  # the director's sealed letters (the office's own list only)
    filters: dict[str, Any] = field(default_factory=dict)  # what the audit keeps


@dataclass(frozen=True)
class Asker:
    """Who asks for an export: what they may do and, for a department, which one."""

    permissions: frozenset[Permission]
    department_id: int | None
    zone: tzinfo
    dialect: str


Builder = Callable[[dict[str, str], Asker], Source]


def _case_search(params: dict[str, str], asker: Asker) -> Source:
    chosen = {name: params.get(name, "")[:200].strip() for name in FILTERS}
    filters = filters_of(chosen)
    terms = terms_of(chosen["q"])
    kept: dict[str, Any] = {k: v for k, v in chosen.items() if v and k != "q"}
    if terms:  # the words may be personal: the audit keeps how many, as the search's own does
        kept["terms"] = len(terms)
    return Source(
        "cases",
        [
            Case.sealed.is_(False),
            *filters.conditions(asker.zone),
            *(term_condition(asker.dialect, t) for t in terms),
        ],
        ascending=chosen["sort"] == "oldest",
        joins=[(CaseText, CaseText.case_id == Case.id)],
        filters=kept,
    )


def _desk(name: str) -> Builder:
    def build(_params: dict[str, str], _asker: Asker) -> Source:
        return Source(f"desk:{name}", desk_conditions(name), ascending=True)

    return build


def _department(name: str) -> Builder:
    def build(_params: dict[str, str], asker: Asker) -> Source:
        if asker.department_id is None:
            raise NotExportable("the account belongs to no department")
        conditions = [
            Assignment.department_id == asker.department_id,
            Assignment.state.in_(ACTIVE),
            *bucket_conditions(utcnow() + DUE_SOON)[name],
        ]
        return Source(
            f"department:{name}",
            conditions,
            key=Assignment.id,
            ascending=True,
            via_assignment=True,
            filters={"department_id": asker.department_id},
        )

    return build


def _supervised(_params: dict[str, str], _asker: Asker) -> Source:
    return Source(
        "supervised",
        [Case.supervised.is_(True), Case.sealed.is_(False)],
        ascending=True,
    )


def _overdue(_params: dict[str, str], _asker: Asker) -> Source:
    return Source(
        "overdue",
        [Assignment.overdue.is_(True), Assignment.state.in_(ACTIVE)],
        key=Assignment.id,
        ascending=True,
        via_assignment=True,
    )


def _mailbox(_params: dict[str, str], _asker: Asker) -> Source:
    return Source("mailbox", [Case.sealed.is_(True)], sealed=True)


# each list's name for people: the headings of the lists' own pages
TITLES = {
    "cases": N_("Find cases"),
    "desk:dispatch": N_("To dispatch"),
    "desk:review": N_("Replies to review"),
    "desk:evaluate": N_("Answers waiting for the callback"),
    "department:sign": N_("To sign for"),
    "department:handle": N_("To handle"),
    "department:soon": N_("Due soon or overdue"),
    "department:sent_back": N_("Replies sent back to you"),
    "department:urged": N_("Urged"),
    "supervised": N_("Cases under supervision"),
    "overdue": N_("Overdue, by department"),
    "mailbox": N_("The director's mailbox"),
}

# list name -> (the permission it needs, its builder)
LISTS: dict[str, tuple[Permission, Builder]] = {
    "cases": (Permission.CASE_READ, _case_search),
    **{f"desk:{name}": (Permission.CASE_EDIT, _desk(name)) for name in DESK_LISTS},
    **{
        f"department:{name}": (Permission.DEPARTMENT_HANDLE, _department(name))
        for name in bucket_conditions(utcnow())
    },
    "supervised": (Permission.SUPERVISE, _supervised),
    "overdue": (Permission.SUPERVISE, _overdue),
    "mailbox": (Permission.DIRECTOR_MAILBOX, _mailbox),
}


def source_for(name: str, params: dict[str, str], asker: Asker) -> Source:
    """The export of list ``name`` with the list's filters ``params``, or NotExportable."""
    found = LISTS.get(name)
    if found is None:
        raise NotExportable("no such list")
    permission, build = found
    if permission not in asker.permissions:
        raise NotExportable("the role may not read this list")
    return build(params, asker)


def personal_allowed(source: Source, permissions: frozenset[Permission]) -> bool:
    """The citizen's name and contacts: for the roles that read cases (departments see them
    masked), and in the director's office's own letters."""
    if source.sealed:
        return Permission.DIRECTOR_MAILBOX in permissions
    return Permission.CASE_READ in permissions
