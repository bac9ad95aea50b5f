"""The timer-job projection: each waiting timer's due time, and the lock of the worker firing it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import EngineTaskRow, UTCDateTime, db


class TimerJob(EngineTaskRow, db.Model):
    """A timer an audit waits on. Workers take it with a guarded UPDATE of the lock columns."""

    __tablename__ = "timer_jobs"
    __table_args__ = (UniqueConstraint("instance_id", "engine_task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lock_owner: Mapped[str | None] = mapped_column(String(200))
    lock_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
