"""Whose figures a reader sees. The hotline's supervisors, team leaders and the director's
office see the whole centre; a department's people see their department's cases (those routed
to it, its assignments, the evaluations of its answers) and no contact-centre figure; an agent
sees their own work (the contacts they took, the cases whose first contact they took, the
evaluations of those cases, their own row of agent figures).

Each figure takes a ``Scope`` and narrows its own rows with it, so that a scoped number is the
same figure computed on fewer rows, never a second definition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, true

from hotline.core.cases.attribution import opened_by
from hotline.core.people.permissions import Permission
from hotline.core.storage.models.axd import CallRecord, QueueItem
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.workflow import Assignment

# the headline figures that are the contact centre's (no department has any)
CONTACT_FIGURES = ("offered", "answered", "abandon_rate", "asa", "aht", "service_level")
# the workflow's figures about departments' work (an agent's own work has none)
DEPARTMENT_FIGURES = ("acceptance", "completion", "returns")


@dataclass(frozen=True)
class Scope:
    department_id: int | None = None  # a department's people: its cases
    agent_id: int | None = None  # an agent: their own work

    @property
    def whole(self) -> bool:
        return self.department_id is None and self.agent_id is None

    @property
    def contacts(self) -> bool:
        """Whether the contact centre's figures belong to this reader at all."""
        return self.department_id is None

    @property
    def departments(self) -> bool:
        """Whether the departments' timeliness belongs to this reader."""
        return self.agent_id is None

    def shows(self, figure: str) -> bool:
        if figure in CONTACT_FIGURES:
            return self.contacts
        if figure in DEPARTMENT_FIGURES:
            return self.departments
        return True

    def cases(self) -> ColumnElement[bool]:
        """The cases this reader's figures count, as a condition on ``Case``."""
        if self.department_id is not None:
            return Case.department_id == self.department_id
        if self.agent_id is not None:
            return opened_by(self.agent_id)
        return true()

    def items(self) -> ColumnElement[bool]:
        """The queue items (contacts) this reader's figures count."""
        if self.agent_id is not None:
            return QueueItem.agent_id == self.agent_id
        return true()

    def calls(self) -> ColumnElement[bool]:
        if self.agent_id is not None:
            return CallRecord.agent_id == self.agent_id
        return true()

    def assignments(self) -> ColumnElement[bool]:
        if self.department_id is not None:
            return Assignment.department_id == self.department_id
        return true()


EVERYTHING = Scope()
WHOLE_CENTRE = (Permission.SUPERVISE, Permission.DIRECTOR_MAILBOX, Permission.QUEUE_MANAGE)


def scope_for(user: Any, permissions: frozenset[Permission]) -> Scope | None:
    """The reader's scope from what they may do; None: no figures at all (a department
    person with no department)."""
    if any(p in permissions for p in WHOLE_CENTRE):
        return EVERYTHING
    if Permission.DEPARTMENT_HANDLE in permissions:
        return Scope(department_id=user.department_id) if user.department_id else None
    if Permission.QUEUE_WORK in permissions:
        return Scope(agent_id=user.id)
    return None
