"""The one intake: every channel hands a ``Submission`` to ``receive``; it checks, matches the
citizen, opens or continues a case, routes it and puts it in the queue. Also what could not
become a case: held messages and traces. May import every domain below it; no channel."""
