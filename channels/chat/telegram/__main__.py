"""``python -m hotline.channels.chat.telegram``: tell Telegram where updates go.

With a webhook secret set, calls setWebhook with ``<HOTLINE_PUBLIC_URL>/channels/telegram/
webhook`` and the secret; without one, deleteWebhook so that polling works. Run it once after
changing either setting.
"""

from __future__ import annotations

import asyncio
import sys

from hotline.core.foundation.settings import load_settings

from .api import set_up


def main() -> int:
    settings = load_settings()  # from HOTLINE_* as `hotline serve` reads them
    try:
        print(asyncio.run(set_up(settings)))
    except Exception as exc:  # a command line: say why, no traceback with the token in it
        print(f"Telegram refused: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
