"""Words for the kernel's vocabularies as people read them (translated where shown)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for the catalogs; it is translated where it is shown."""
    return message


KIND = {
    "complaint": N_("Complaint"),
    "report": N_("Report"),
    "request": N_("Request for help"),
    "consultation": N_("Question"),
    "suggestion": N_("Suggestion"),
    "praise": N_("Praise"),
    "director_mailbox": N_("Letter to the director"),
}

STATUS = {
    "received": N_("Received by the hotline"),
    "dispatched": N_("With the responsible department"),
    "accepted": N_("Being handled by the department"),
    "replied": N_("Answer being checked by the hotline"),
    "answered": N_("Answered"),
    "closed": N_("Closed"),
}

ROLE = {
    "agent": N_("Agent"),
    "team_leader": N_("Team leader"),
    "department_officer": N_("Department officer"),
    "department_head": N_("Department head"),
    "director_office": N_("Director's office"),
    "supervisor": N_("Supervisor"),
    "administrator": N_("Administrator"),
}

AGENT_STATE = {
    "signed_out": N_("Not in the queue"),
    "available": N_("Available"),
    "busy": N_("Busy"),
    "wrap_up": N_("After-contact work"),
    "away": N_("Away"),
}

PRIORITY_REASON = {
    "elderly": N_("Elderly"),
    "disabled": N_("Disability"),
    "other": N_("Other reason"),
}

STRATEGY = {
    "longest_idle": N_("Longest idle"),
    "round_robin": N_("Round robin"),
    "fewest_today": N_("Fewest contacts today"),
    "least_handling": N_("Least handling time today"),
    "skill_level": N_("Skill tiers (best level first, widening after a wait)"),
    "citizen_priority": N_("Priority citizens to the most skilled"),
    "region": N_("The caller's region by phone prefix"),
    "last_agent": N_("The agent who last served the citizen"),
}

MEDIA = {
    "voice": N_("Call"),
    "chat": N_("Web chat"),
    "email": N_("E-mail"),
    "sms": N_("SMS"),
    "telegram": N_("Telegram"),
    "web_form": N_("Web form"),
    "callback": N_("Call-back request"),
    "voicemail": N_("Voicemail"),
    "fax": N_("Fax"),
}

# Public timeline entries only; internal events never reach a citizen's page.
EVENT = {
    "received": N_("Received"),
    "information_added": N_("You added information"),
    "information_requested": N_("The hotline asked you for more information"),
    "dispatched": N_("Sent to the department"),
    "answered": N_("Answered"),
    "rated": N_("You evaluated the answer"),
    "reopen_requested": N_("You asked for the case to be handled again"),
    "reopened": N_("Handled again"),
    "closed": N_("Closed"),
}
