"""The real mail servers for these tests (Dovecot, an SMTP sink), from tests.mailservers."""

from tests.mailservers import dovecot, smtp_sink

__all__ = ["dovecot", "smtp_sink"]
