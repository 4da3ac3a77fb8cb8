"""What the line says besides the menu's own prompts (spoken by the synthesiser in the caller's
language through the hotline's catalogs)."""

from __future__ import annotations

from hotline.core.reference.labels import N_

NOT_AN_OPTION = N_("Sorry, that is not one of the choices.")
NO_MESSAGE = N_("No message was recorded. Goodbye.")
RECEIVED = N_(
    "Your message is received. Your case number is %(number)s. Your lookup code is %(code)s. "
    "Again: case number %(number)s, lookup code %(code)s. Goodbye."
)
ENTER_CODE = N_("Now enter the lookup code, then press the hash key.")
NO_MATCH = N_("No case matches that number and code.")
STATUS = N_("Case %(number)s: %(status)s. Last step: %(last)s, on %(date)s.")
WITHHELD = N_("Your number is withheld, so we cannot call you back. Please leave a message.")
CALLBACK_NOTED = N_("Your call back request is number %(number)s.")
GOODBYE = N_("Thank you for calling. Goodbye.")
VOICEMAIL_SUBJECT = N_("Voicemail")
CALLBACK_SUBJECT = N_("Call back requested")
CALLBACK_TEXT = N_("The caller asked to be called back.")
RECORDED = N_("Your conversation with the agent will be recorded.")
PLACE = N_("You are number %(position)s in the queue.")
WAIT_A_MINUTE = N_("The expected wait is about a minute.")
WAIT_MINUTES = N_("The expected wait is about %(minutes)s minutes.")
QUEUE_KEYS = N_("To leave a message instead, press 1. To be called back, press 2.")
QUEUE_CALLBACK = N_("You left the queue. An agent will call you back. Goodbye.")
AGENT_CALLS_BACK = N_(
    "An agent has taken your call and will call you back in a moment on this number. Goodbye."
)
AGENT_BUSY_WITHHELD = N_(
    "An agent has taken your call, but your number is withheld, so we cannot call you back. "
    "Please leave a message."
)
CALL_SUBJECT = N_("Phone call")
CALL_TEXT = N_("The caller waited for an agent.")
AGENT_MISSED = N_("The agent could not take your call. You keep your place in the queue.")
TRANSFERRED = N_("The agent has transferred your call. Please hold.")
TRANSFER_FAILED = N_("Sorry, the call could not be transferred.")
