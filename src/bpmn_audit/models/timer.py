"""The timer-job projection: each waiting timer's due time. Workers lock the instance, not the job
(see ProcessInstance.lock_owner): the engine fires an instance's timers together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import EngineTaskRow, UTCDateTime, db


class TimerJob(EngineTaskRow, db.Model):
    """A timer an audit waits on."""

    __tablename__ = "timer_jobs"
    __table_args__ = (UniqueConstraint("instance_id", "engine_task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
