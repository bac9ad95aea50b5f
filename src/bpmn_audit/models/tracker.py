"""The action tracker: actions from signed-off audits, mapped to their review type."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class TrackerAction(db.Model):
    """One action QiiP governs until it is closed."""

    __tablename__ = "tracker_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    action: Mapped[str] = mapped_column(Text)
    source_finding: Mapped[str | None] = mapped_column(Text)
    review_type: Mapped[str] = mapped_column(String(40))
    owner_agency: Mapped[str] = mapped_column(String(200))
    owner_person: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    rag_status: Mapped[str] = mapped_column(String(10), default="green")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
