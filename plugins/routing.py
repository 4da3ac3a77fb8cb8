"""Built-in routing rule: a new case goes to its service category's default department."""

from __future__ import annotations

from hotline.core.models import Case, ServiceCategory
from hotline.plugins.manager import hookimpl


@hookimpl(trylast=True)
def choose_department(case: Case, category: ServiceCategory | None) -> str | None:
    if category is None or category.default_department is None:
        return None
    return category.default_department.code
