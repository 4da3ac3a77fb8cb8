"""Delivery: work after a commit. The job queue (huey), the outbox relay that hands committed
rows to it at least once, and case events sent to plugins and live screens after commit.
May import storage and the foundation."""
