"""The figures every hotline reports, each defined once here and computed from what is recorded
(queue items, call detail records, cases, departments' assignments, case events), so that any
past period can be computed again: the wallboard, the reports and the exports read them here.

- ``period``: a half-open period [start, end) in UTC, days in the site's time zone.
- ``contacts``: the contact centre (offered, answered, abandoned with short abandons apart,
  diverted to a voicemail or a call back, average speed of answer, average handling time,
  service level), per medium or per queue; the phone line's calls from its call records.
- ``casework``: intake (by channel, kind, hour), cases due and overdue per department, the
  satisfaction rate from evaluations, on-time acceptance and completion, the return rate.
- ``live``: the state of the floor now: agents by state, contacts waiting and the longest wait.
- ``scope``: whose figures a reader sees (the whole centre, a department's, an agent's own).
- ``agents``: each agent's signed-in, away (per reason) and wrap-up time, offers and how they
  ended, contacts handled per medium, occupancy.
"""

from .agents import AgentFigures, agent_figures
from .casework import (
    DepartmentLoad,
    Evaluations,
    Timeliness,
    department_load,
    evaluations,
    intake_by,
    intake_per_hour,
    rising,
    timeliness,
)
from .contacts import CallFigures, ContactFigures, calls, contacts
from .live import AgentsNow, Waiting, agents_now, waiting_now
from .period import Period
from .scope import EVERYTHING, Scope, scope_for

__all__ = [
    "EVERYTHING",
    "AgentFigures",
    "AgentsNow",
    "CallFigures",
    "ContactFigures",
    "DepartmentLoad",
    "Evaluations",
    "Period",
    "Scope",
    "Timeliness",
    "Waiting",
    "agent_figures",
    "agents_now",
    "calls",
    "contacts",
    "department_load",
    "evaluations",
    "intake_by",
    "intake_per_hour",
    "rising",
    "scope_for",
    "timeliness",
    "waiting_now",
]
