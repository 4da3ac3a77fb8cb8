"""The ``hotline`` command: serve, worker, migrate, users, jobs, demo data, check. The top of the
kernel: may import the shell and everything below it."""
