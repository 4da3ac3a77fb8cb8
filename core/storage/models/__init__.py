"""The kernel's tables, one module per domain, on one declarative base (``base``).

Migrations in ``core/storage/migrations`` must match these (a test compares). Importing any of
them imports all, so that every relationship between them resolves.
"""

from hotline.core.storage.models import (  # noqa: F401
    axd,
    base,
    cases,
    delivery,
    intake,
    people,
    reference,
    reports,
    search,
    workflow,
)
