"""What the bot says, in one place: English message ids for the app's gettext catalogs.

Marked with ``N_`` so ``make catalogs`` extracts them; translated where they are sent, in the
language of the Telegram user (``language_code``) or of the case.
"""

from __future__ import annotations

from collections.abc import Callable

from hotline.core.reference.labels import N_
from hotline.core.shell.context import AppContext

Gettext = Callable[[str], str]

WELCOME = N_(
    "This is the city hotline. Tell us about a problem, or follow a case you reported. "
    "What would you like to do?"
)
MENU_COMPLAINT = N_("Submit a complaint")
MENU_STATUS = N_("Look a case up")
MENU_HELP = N_("Help")
HOW_TO_SUBMIT = N_(
    "Write what happened and where. You may also send photos, your location or a voice note. "
    "Each message becomes a case and you receive its tracking number."
)
HELP = N_(
    "Send a message, photos, your location or a voice note and the hotline takes it up as a "
    "case. To follow a case, send /status with its tracking number and lookup code, "
    "for example: /status 2611 2348 1592 6 123456"
)
ASK_STATUS = N_("Send the tracking number and the lookup code of your case.")
NO_MATCH = N_("No case matches that number and code.")
TOO_MANY_TRIES = N_("Too many wrong attempts. Please try again in 15 minutes.")
STATUS_ANSWER = N_("Case %(number)s: %(status)s (%(last)s).")
TOO_LONG = N_(
    "Your message is too long: at most %(limit)s characters. Please shorten it or send it in "
    "several messages."
)
FILE_TOO_LARGE = N_("That file is too large: at most %(limit)s MB. Please send a smaller one.")
NOT_TAKEN = N_(
    "Your message could not be taken as it is. It is kept for a member of staff to look at."
)
UNSUPPORTED = N_("Please send text, photos, your location or a voice note.")
RATE_QUESTION = N_("How satisfied are you with the answer?")
RATED = N_("Thank you for your evaluation.")
SATISFACTION = {
    "satisfied": N_("Satisfied"),
    "basically_satisfied": N_("Basically satisfied"),
    "not_satisfied": N_("Not satisfied"),
}


def language_of(code: str | None, default: str) -> str:
    """zh, zh-hans, zh-TW... -> zh_CN; any other code -> en; none given -> the site default."""
    if not code:
        return default
    return "zh_CN" if code.lower().startswith("zh") else "en"


def gettext_for(ctx: AppContext, language: str) -> Gettext:
    return ctx.catalogs.get(language).gettext
