"""Notifications: something a person is told, kept as a record they see in the app (and emailed, see outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class Notification(db.Model):
    """One thing one person is told: a reminder, an escalation, a concern raised. Never a child's name."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    #: the page it links to, such as ``/tasks/12`` (a reminder: the task it is about); None: the audit's page
    path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
