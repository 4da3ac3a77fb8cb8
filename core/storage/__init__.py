"""Storage: the database (engines, sessions, SQLite tuning), the tables on one declarative base,
the migrations, content-addressed files, and the job outbox's write side (rows written in the
transaction that causes them). May import only the foundation."""
