"""Cases and citizens: the named changes to a case (``do_*``), citizens and their contact points,
tracking numbers and lookup, search, transcripts of recordings, and replies to citizens.
May import people, reference, delivery, storage and the foundation."""
