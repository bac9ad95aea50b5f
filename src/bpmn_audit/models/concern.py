"""Immediate concerns: a worry about a child's safety raised during an audit, handled by its own process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow
from .instance import ProcessInstance


class Concern(db.Model):
    """One immediate concern. It is open while its own process instance runs; the Business Unit's task in
    that process records the outcome. Kept apart from the audit's learning: it is never in a report."""

    __tablename__ = "concerns"
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(index=True)  # the case register's case, when it is about one
    pseudonym: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(200))
    raised_agency: Mapped[str | None] = mapped_column(String(100))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    process: Mapped[ProcessInstance] = relationship(foreign_keys=[process_id])
