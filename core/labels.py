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

AWAY = {
    "break": N_("Break"),
    "meal": N_("Meal"),
    "meeting": N_("Meeting"),
    "training": N_("Training"),
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
