"""People and permissions: staff accounts, sign-in with its second factor, passwords, roles
and rights, separation of duties, the director's office as an audience, API keys, counting wrong
guesses, and the audit of staff reads. May import reference, delivery, storage, foundation."""
