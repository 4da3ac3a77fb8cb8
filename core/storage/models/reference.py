"""Tables of reference data: departments, service categories, pages, the calendar, routing rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.storage.enums import LimitUnit
from hotline.core.storage.models.base import Base, Id, utcnow


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # where its notices (new cases, urging, deadlines) are also sent, when set
    email: Mapped[str | None] = mapped_column(String(320))

    parent: Mapped[Department | None] = relationship(remote_side="Department.id")

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class ServiceCategory(Base):
    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_categories.id"))
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sign_limit: Mapped[int] = mapped_column(Integer, default=1)
    sign_limit_unit: Mapped[str] = mapped_column(String(20), default=LimitUnit.WORKING_DAYS)
    reply_limit: Mapped[int] = mapped_column(Integer, default=5)
    reply_limit_unit: Mapped[str] = mapped_column(String(20), default=LimitUnit.WORKING_DAYS)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the routing suggestion is dispatched without an agent (the administrator's choice)
    auto_dispatch: Mapped[bool] = mapped_column(Boolean, default=False)
    # Extra questions the form asks (the Open311 service definition): a list of
    # {code, datatype, required, description_zh, description_en, values: [{key, name_zh, name_en}]}
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    default_department: Mapped[Department | None] = relationship()

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class Page(Base):
    """A public information page: an announcement or a service guide, in both languages."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # announcement | guide
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body_zh: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    def title(self, language: str) -> str:
        return self.title_zh if language.startswith("zh") else self.title_en

    def body(self, language: str) -> str:
        return self.body_zh if language.startswith("zh") else self.body_en


class CalendarDay(Base):
    """An exception to the default calendar: a holiday on a weekday, or a weekend day that is
    a working day (调休). Imported from iCalendar or CSV, or edited one by one."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(200), default="")


class RoutingRule(Base):
    """Words in a case (keyword) or in its place (district) that send it to a department."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # keyword | district
    pattern: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    # only for cases of this service, when set
    category_id: Mapped[int | None] = mapped_column(ForeignKey("service_categories.id"))
    position: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship()


class ReplyTemplate(Base):
    """A ready answer agents start their reply from, in both languages; for one service or for
    every service. ``{number}``, ``{service}`` and ``{name}`` are filled in from the case."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("service_categories.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def title(self, language: str) -> str:
        return (self.title_zh if language.startswith("zh") else self.title_en) or self.title_en

    def body(self, language: str) -> str:
        return (self.body_zh if language.startswith("zh") else self.body_en) or self.body_zh
