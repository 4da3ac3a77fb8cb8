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

QUEUE_OUTCOME = {  # how a contact left the queue (queue_items.outcome), for statistics
    "answered": N_("Taken by an agent"),
    "abandoned": N_("Hung up while waiting"),
    "voicemail": N_("Left the queue for a voicemail"),
    "callback": N_("Left the queue for a call back"),
    "line_lost": N_("Cut off by a fault of the phone line (called back)"),
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
    # channels an interaction or a contact point names (never shown as codes)
    "phone": N_("Phone"),
    "web": N_("Web portal"),
    "webchat": N_("Web chat"),
    "api": N_("App (API)"),
    "visit": N_("Visit"),
    "staff": N_("Recorded by staff"),
}

# Public timeline entries only; internal events never reach a citizen's page.
EVENT = {
    "received": N_("Received"),
    "information_added": N_("You added information"),
    "information_requested": N_("The hotline asked you for more information"),
    "dispatched": N_("Sent to the department"),
    "signed_for": N_("The department took up your case"),
    "answered": N_("Answered"),
    "evaluated": N_("Your evaluation was recorded"),
    "merged": N_("Joined with another case about the same matter; you will receive its answer"),
    "split": N_("Part of your message became a case of its own"),
    "rated": N_("You evaluated the answer"),
    "reopen_requested": N_("You asked for the case to be handled again"),
    "reopened": N_("Handled again"),
    "closed": N_("Closed"),
}

# Every event, for staff timelines.
ACTION = {
    **EVENT,
    "routed": N_("Department suggested"),
    "classified": N_("Classified"),
    "handed_over": N_("Handed over to the workflow"),
    "priority_changed": N_("Priority changed"),
    "note_added": N_("Note added"),
    "personal_data_read": N_("Personal data read"),
    "citizen_called": N_("Citizen called by an agent"),
    "call_monitored": N_("Call listened in to"),
    "call_consulted": N_("Another agent consulted during the call"),
    "department_replied": N_("Department replied"),
    "reply_sent_back": N_("Reply sent back to the department"),
    "returned": N_("Returned by the department"),
    "extension_requested": N_("Extension requested"),
    "extension_approved": N_("Extension approved"),
    "extension_refused": N_("Extension refused"),
    "urged": N_("Urged"),
    "supervised": N_("Put under supervision"),
    "supervision_ended": N_("Supervision ended"),
    "deadline_near": N_("Deadline near"),
    "overdue": N_("Overdue"),
    "merged_from": N_("Another case joined this one"),
    "linked": N_("Linked to a related case"),
    "break_glass": N_("Opened by break-glass"),
    "reply_sent": N_("Message sent to the citizen"),
    "reply_failed": N_("Message to the citizen failed"),
    "reply_delivered": N_("Message delivered to the citizen"),
    "chat_ended": N_("Chat ended by the agent"),
    "reply_undeliverable": N_("No channel could take the message to the citizen"),
    "follow_up_failed": N_("Follow-up work failed after its last try (see hotline jobs)"),
}

DELIVERY = {
    "pending": N_("waiting to be sent"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "failed": N_("not delivered"),
    "no_channel": N_("no channel to send it"),
}

NOTICE = {
    "dispatched": N_("New case for your department"),
    "reply_to_review": N_("A department's reply waits for review"),
    "co_replied": N_("A co-handling department replied"),
    "co_returned": N_("A co-handling department returned its part"),
    "reply_sent_back": N_("Your reply was sent back"),
    "returned": N_("A department returned a case"),
    "extension_requested": N_("An extension waits for a decision"),
    "extension_approved": N_("Your extension was approved"),
    "extension_refused": N_("Your extension was refused"),
    "urged": N_("Urging"),
    "supervised": N_("A case of yours is under supervision"),
    "deadline_near": N_("A deadline is near"),
    "overdue": N_("A deadline has passed"),
    "not_satisfied": N_("A citizen is not satisfied"),
    "break_glass": N_("A letter to the director was opened by break-glass"),
    "letter_received": N_("A new letter to the director"),
    "letter_added": N_("The writer of a letter sent more"),
    "rights_request": N_("A change of rights waits for a second person of the office"),
    "rights_approved": N_("A change of rights was approved"),
    "rights_refused": N_("A change of rights was refused"),
    "rights_changed": N_("The rights of the director's office changed"),
    "rights:edit": N_("Account changed (role, department or active)"),
    "rights:add": N_("New account"),
    "rights:grant": N_("Permission override added"),
    "rights:grant_delete": N_("Permission override removed"),
    "rights:reset_password": N_("New password"),
    "rights:reset_totp": N_("Second factor removed"),
    "announcement": N_("Announcement"),
    "export_ready": N_("Your export is ready"),
}

ASSIGNMENT = {
    "dispatched": N_("To sign for"),
    "accepted": N_("Being handled"),
    "replied": N_("Replied"),
    "done": N_("Done"),
    "returned": N_("Returned"),
    "closed": N_("Closed"),
}
